from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from channels_app.kinds import CREDENTIAL_FIELDS, CREDENTIAL_LABELS, ChannelKind


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ChannelKind.choices)
    name = forms.CharField(label=_("Name"), max_length=120)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams"), queryset=Team.objects.order_by("name"), required=False
    )

    def __init__(self, *args, kind: str, masked: dict[str, str] | None = None, **kwargs):
        kwargs.setdefault("initial", {})["kind"] = kind
        super().__init__(*args, **kwargs)
        self.credential_names: list[str] = []
        for field in CREDENTIAL_FIELDS[kind]:
            current = (masked or {}).get(field)
            self.fields[f"cred_{field}"] = forms.CharField(
                label=CREDENTIAL_LABELS[field],
                required=False,
                # Secrets are never sent to the browser; the placeholder shows the masked value.
                widget=forms.PasswordInput(
                    render_value=False,
                    attrs={"placeholder": current or _("not set"), "autocomplete": "new-password"},
                ),
                help_text=_(
                    "Leave blank to keep the current value. Use env:NAME to read it from the environment."
                ),
            )
            self.credential_names.append(field)
        # The kind is chosen before the form is shown and never changes afterwards.
        self.fields["kind"].disabled = True

    def credential_values(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(f"cred_{name}", "") for name in self.credential_names}

    @property
    def credential_fields(self):
        return [self[f"cred_{name}"] for name in self.credential_names]

    @property
    def main_fields(self):
        return [self[name] for name in ("kind", "name", "address", "is_active", "teams")]
