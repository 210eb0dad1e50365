"""Segment pages: the list with live counts, the condition editor with a preview, deletion.

The editor is one server-rendered form. Adding or removing a condition, changing what a condition
looks at, and previewing all post the form back and re-render it (htmx swaps just the editor; without
JavaScript the whole page comes back), so nothing about a definition lives only in the browser.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from accounts import roles
from accounts.decorators import requires
from profiles.models import AttributeDefinition, Identity, IdentityKind, Segment
from profiles.segment_services import (
    MAX_ROWS,
    Row,
    SegmentNameError,
    do_delete_segment,
    do_save_segment,
    row_to_rule,
    rows_from_definition,
    rows_from_post,
    segment_count,
)
from profiles.segments import (
    EVENT_OPS,
    HAS_OPS,
    OPS_BY_TYPE,
    SegmentError,
    attribute_type,
    clean_rule,
    condition_ops,
    customers_matching,
)

PREVIEW_SIZE = 20
STANDARD_SUBJECTS = {
    "name": gettext_lazy("Name"),
    "company": gettext_lazy("Company"),
    "locale": gettext_lazy("Language"),
    "timezone": gettext_lazy("Time zone"),
    "location": gettext_lazy("Location"),
    "created_at": gettext_lazy("Created"),
    "last_seen_at": gettext_lazy("Last seen"),
}
CONVERSATION_SUBJECTS = {
    "open": gettext_lazy("Open conversation"),
    "pending": gettext_lazy("Pending conversation"),
    "snoozed": gettext_lazy("Snoozed conversation"),
    "resolved": gettext_lazy("Resolved conversation"),
}
OP_LABELS = {
    "equals": gettext_lazy("equals"),
    "contains": gettext_lazy("contains"),
    "greater": gettext_lazy("is greater than"),
    "less": gettext_lazy("is less than"),
    "is_set": gettext_lazy("is set"),
    "is_not_set": gettext_lazy("is not set"),
    "has": gettext_lazy("exists"),
    "has_not": gettext_lazy("does not exist"),
    "did": gettext_lazy("happened"),
    "did_not": gettext_lazy("did not happen"),
    # The en dash is the typographic range sign, not a look-alike hyphen.
    "detractor": gettext_lazy("is a detractor (0–6)"),  # noqa: RUF001
    "passive": gettext_lazy("is passive (7–8)"),  # noqa: RUF001
    "promoter": gettext_lazy("is a promoter (9–10)"),  # noqa: RUF001
    "none": gettext_lazy("was never given"),
}
DATE_OP_LABELS = {
    "equals": gettext_lazy("is on"),
    "greater": gettext_lazy("is after"),
    "less": gettext_lazy("is before"),
}


def subject_groups(definitions: dict[str, AttributeDefinition]) -> list[tuple[Any, list[tuple[str, Any]]]]:
    groups: list[tuple[Any, list[tuple[str, Any]]]] = [
        (_("Profile"), [(f"attribute:{key}", label) for key, label in STANDARD_SUBJECTS.items()]),
        (_("Custom attributes"), [(f"attribute:{d.key}", d.label) for d in definitions.values()]),
        (_("Identities"), [(f"identity:{kind}", label) for kind, label in IdentityKind.choices]),
        (
            _("Activity"),
            [
                ("event", _("Event")),
                *((f"conversation:{s}", lbl) for s, lbl in CONVERSATION_SUBJECTS.items()),
            ],
        ),
        (_("Surveys"), [("nps", _("Latest NPS answer"))]),
    ]
    return [(label, options) for label, options in groups if options]


def describe_row(row: Row, definitions: dict[str, AttributeDefinition]) -> Row:
    """Fill in the operators and the kind of value input that fit the row's subject."""
    family, _sep, target = row.subject.partition(":")
    kind = attribute_type(target, definitions) if family == "attribute" else None
    names: tuple = HAS_OPS
    if kind:
        names = OPS_BY_TYPE[kind]
        row.value_kind = {"datetime": "date"}.get(kind, kind)
        if kind == "boolean":
            row.value_choices = (("true", _("Yes")), ("false", _("No")))
        elif kind == "choice":
            row.value_choices = tuple((str(c), str(c)) for c in definitions[target].choices)
    elif family == "event":
        names, row.value_kind = EVENT_OPS, "event"
    elif family == "nps":
        names = condition_ops("nps")
    dated = kind in ("date", "datetime")
    row.ops = tuple(
        (name, (DATE_OP_LABELS if dated else OP_LABELS).get(name, OP_LABELS[name])) for name in names
    )
    if row.op not in names:
        row.op = names[0]
    return row


def summary(segment: Segment, definitions: dict[str, AttributeDefinition]) -> list[str]:
    parsed = rows_from_definition(segment.definition)
    if parsed is None:
        return [_("Nested conditions")]
    subjects = dict(option for _label, options in subject_groups(definitions) for option in options)
    texts = []
    for row in parsed[1]:
        describe_row(row, definitions)
        parts = [str(subjects.get(row.subject, row.subject)), str(dict(row.ops).get(row.op, row.op))]
        parts += [row.value] if row.value and not row.op.startswith("is_") else []
        if row.days:
            parts.append(_("in the last %(days)s days") % {"days": row.days})
        texts.append(" ".join(parts))
    return texts


@requires(roles.MANAGE_SEGMENTS)
@require_GET
def segment_list(request):
    definitions = {d.key: d for d in AttributeDefinition.objects.all()}
    segments = [(s, summary(s, definitions)) for s in Segment.objects.all()]
    return render(request, "profiles/segments/list.html", {"segments": segments})


@requires(roles.MANAGE_SEGMENTS)
@require_GET
def segment_count_view(request, pk: int):
    segment = get_object_or_404(Segment, pk=pk)
    return render(
        request, "profiles/segments/_count.html", {"segment": segment, "count": segment_count(segment)}
    )


@requires(roles.MANAGE_SEGMENTS)
@require_http_methods(["GET", "POST"])
def segment_form(request, pk: int | None = None):
    segment = get_object_or_404(Segment, pk=pk) if pk else None
    definitions = {d.key: d for d in AttributeDefinition.objects.all()}
    name, action, name_error, form_error = (segment.name if segment else ""), "", "", ""
    parsed = rows_from_definition(segment.definition) if segment else ("all", [Row(0)])
    # Nested groups (saved through code) are shown read-only: the form can rename, never flatten them.
    editable = parsed is not None
    match, rows = parsed or ("all", [])
    if request.method == "POST":
        name, action = request.POST.get("name", "").strip()[:120], request.POST.get("action", "save")
    if request.method == "POST" and editable:
        match = "any" if request.POST.get("match") == "any" else "all"
        rows = rows_from_post(request.POST)
        if action == "add" and len(rows) < MAX_ROWS:
            rows.append(Row(max((r.index for r in rows), default=-1) + 1, autofocus=True))
        elif action.startswith("remove:"):
            rows = [r for r in rows if str(r.index) != action.partition(":")[2]]
    # While a condition is still being composed (added, its subject changed) it is not judged yet.
    judge = action in ("save", "preview") or (segment is not None and request.method == "GET")
    rules = []
    for row in rows:
        describe_row(row, definitions)
        try:
            rules.append(clean_rule(row_to_rule(row), definitions))
        except SegmentError as exc:
            row.error = str(exc) if judge else ""
    definition = [{"any": rules}] if match == "any" and rules else rules
    if not editable and segment is not None:
        definition = segment.definition
    valid = len(rules) == len(rows)
    if action == "save" and not (valid and name):
        name_error = "" if name else _("A segment needs a name.")
    elif action == "save":
        try:
            saved = do_save_segment(name=name, definition=definition, actor=request.user, segment=segment)
        except SegmentNameError as exc:
            name_error = str(exc)
        except SegmentError as exc:
            form_error = str(exc)
        else:
            messages.success(request, _("Segment “%(name)s” saved.") % {"name": saved.name})
            url = reverse("segment_list")
            return HttpResponseClientRedirect(url) if _htmx(request) else redirect(url)
    preview = None
    if valid and judge and action != "save":
        try:
            preview = _preview(definition)
        except SegmentError as exc:
            form_error = str(exc)
    context = {
        "segment": segment,
        "name": name,
        "name_error": name_error,
        "form_error": form_error,
        "match": match,
        "rows": rows,
        "editable": editable,
        "subjects": subject_groups(definitions),
        "preview": preview,
        "max_rows": MAX_ROWS,
    }
    if _htmx(request):
        return render(request, "profiles/segments/_editor.html", context)
    return render(request, "profiles/segments/form.html", context, status=400 if action == "save" else 200)


def _htmx(request) -> bool:
    # htmx only swaps 2xx answers, so its re-renders are 200 even when the form has errors.
    return bool(getattr(request, "htmx", False))


def _preview(definition: list) -> dict[str, Any]:
    customers = customers_matching(definition).order_by("-last_seen_at", "-id")
    identities = Prefetch("identities", queryset=Identity.objects.order_by("kind", "value"))
    return {
        "count": customers.count(),
        "customers": list(customers.prefetch_related(identities)[:PREVIEW_SIZE]),
    }


@requires(roles.MANAGE_SEGMENTS)
@require_http_methods(["GET", "POST"])
def segment_delete(request, pk: int):
    segment = get_object_or_404(Segment, pk=pk)
    if request.method == "POST":
        do_delete_segment(segment=segment)
        messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
        return redirect("segment_list")
    return render(request, "profiles/segments/delete_confirm.html", {"segment": segment})
