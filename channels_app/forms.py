from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from channels_app.demo import ACCEPT_INBOUND_FLAG, DEMO_FLAG
from channels_app.kinds import CREDENTIAL_FIELDS, CREDENTIAL_LABELS, kind_choices
from channels_app.settings_fields import fields_for


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=kind_choices)
    name = forms.CharField(label=_("Name"), max_length=120)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams"), queryset=Team.objects.order_by("name"), required=False
    )

    def __init__(
        self,
        *args,
        kind: str,
        masked: dict[str, str] | None = None,
        config: dict | None = None,
        **kwargs,
    ):
        initial = kwargs.setdefault("initial", {})
        initial["kind"] = kind
        self.setting_specs = fields_for(kind)
        for spec in self.setting_specs:
            if config and spec.key in config:
                initial[f"conf_{spec.key}"] = spec.to_form(config[spec.key])
        super().__init__(*args, **kwargs)
        for spec in self.setting_specs:
            self.fields[f"conf_{spec.key}"] = spec.make()
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
        self.is_demo = bool(config and config.get(DEMO_FLAG) is True)
        if config and self.is_demo:
            self.fields["demo_accept_inbound"] = forms.BooleanField(
                label=_("Accept incoming webhook deliveries"),
                required=False,
                initial=config.get(ACCEPT_INBOUND_FLAG) is True,
                help_text=_(
                    "Off: the webhook answers 403 to every delivery. Turn it on only after replacing the "
                    "demo credentials with your own."
                ),
            )

    def clean(self):
        cleaned = super().clean() or {}
        self.config_values: dict = {}
        for spec in self.setting_specs:
            name = f"conf_{spec.key}"
            # A setting missing from the submission (an older form, an API client) keeps its value.
            if name not in cleaned or name not in self.data:
                continue
            try:
                self.config_values[spec.key] = spec.to_config(cleaned[name])
            except forms.ValidationError as exc:
                self.add_error(name, exc)
        if self.is_demo:
            self.config_values[ACCEPT_INBOUND_FLAG] = bool(cleaned.get("demo_accept_inbound"))
        return cleaned

    @property
    def setting_fields(self):
        return [self[f"conf_{spec.key}"] for spec in self.setting_specs]

    def credential_values(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(f"cred_{name}", "") for name in self.credential_names}

    @property
    def credential_fields(self):
        return [self[f"cred_{name}"] for name in self.credential_names]

    @property
    def main_fields(self):
        return [self[name] for name in ("kind", "name", "address", "is_active", "teams")]
