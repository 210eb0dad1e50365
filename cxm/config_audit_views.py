"""The configuration audit log page: admins read who changed which setting, filtered and paginated."""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.decorators import requires
from core.config_audit_selectors import SYSTEM, actors_in_log, config_changes_page
from core.models import ConfigObjectType


class ConfigAuditFilterForm(forms.Form):
    object_type = forms.ChoiceField(
        label=_("Object type"), required=False, choices=[("", _("All objects")), *ConfigObjectType.choices]
    )
    actor = forms.ChoiceField(label=_("Changed by"), required=False)
    since = forms.DateField(
        label=pgettext_lazy("date range", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        label=pgettext_lazy("date range", "Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, actors: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        actor = self.fields["actor"]
        assert isinstance(actor, forms.ChoiceField)
        actor.choices = [
            ("", _("Everyone")),
            (SYSTEM, _("System")),
            *((str(pk), name) for pk, name in actors),
        ]

    def clean(self):
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            raise forms.ValidationError(_("The end date is before the start date."))
        return data


@requires(roles.MANAGE_SETTINGS)
@require_GET
def config_audit(request):
    form = ConfigAuditFilterForm(request.GET or None, actors=actors_in_log())
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    page = config_changes_page(
        object_type=filters.get("object_type") or "",
        actor=filters.get("actor") or "",
        since=filters.get("since"),
        until=filters.get("until"),
        page=request.GET.get("page", 1),
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "settings/config_audit.html",
        {
            "form": form,
            "page": page,
            "entries": page.object_list,
            "query": query.urlencode(),
            "section": "config_audit",
        },
    )
