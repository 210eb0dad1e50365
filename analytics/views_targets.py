"""The admins' page for metric targets: one number per metric, blank for none."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import roles
from accounts.decorators import requires
from analytics import targets as target_rules


def _parse(post) -> tuple[dict[str, float | None], dict[str, str]]:
    values: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    for metric in target_rules.METRICS:
        raw = post.get(metric.key, "").strip().replace(",", ".")
        if not raw:
            values[metric.key] = None
            continue
        try:
            value = float(raw)
            target_rules.check_target(metric.key, value)
        except ValueError:
            errors[metric.key] = _("Enter a number between %(low)s and %(high)s.") % {
                "low": f"{metric.low:g}",
                "high": f"{metric.high:g}",
            }
            continue
        values[metric.key] = value
    return values, errors


@require_http_methods(["GET", "POST"])
@requires(roles.MANAGE_SETTINGS)
def targets(request):
    current = target_rules.targets()
    errors: dict[str, str] = {}
    posted: dict[str, str] = {}
    if request.method == "POST":
        values, errors = _parse(request.POST)
        posted = {key: request.POST.get(key, "") for key in target_rules.BY_KEY}
        if not errors:
            target_rules.do_set_targets(values=values, actor=request.user)
            messages.success(request, _("Targets saved."))
            return redirect("dashboards_targets")
    rows = [
        {
            "metric": metric,
            "value": posted.get(
                metric.key, f"{current[metric.key].value:g}" if metric.key in current else ""
            ),
            "error": errors.get(metric.key, ""),
        }
        for metric in target_rules.METRICS
    ]
    return render(request, "analytics/targets.html", {"rows": rows, "current_tab": "dashboards_targets"})
