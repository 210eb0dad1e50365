from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import mfa
from accounts.models import User
from accounts.roles import Role


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32, strip=True)


class RemoveSecondFactorForm(forms.Form):
    """Turning the second factor off needs proof the person at the keyboard owns the account."""

    code = forms.CharField(label=_("Code from your app or a recovery code"), max_length=32, required=False)
    password = forms.CharField(label=_("Or your password"), required=False, widget=forms.PasswordInput)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean() or {}
        code, password = data.get("code", ""), data.get("password", "")
        if code and mfa.verify_second_factor(user=self.user, code=code) is not None:
            return data
        if password and self.user.check_password(password):
            return data
        raise forms.ValidationError(_("Enter a current code or your password."), code="unconfirmed")


class SecondFactorPolicyForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Require a second factor for"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
