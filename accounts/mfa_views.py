"""The user's security page: set up, confirm and remove the second factor, recovery codes, and (for
admins) which roles must have one."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import mfa, roles
from accounts.mfa_forms import CodeForm, RemoveSecondFactorForm, SecondFactorPolicyForm
from accounts.mfa_login import SETUP_REQUIRED_KEY, keep_current_session


def _page(request, *, status: int = 200, **extra):
    user = request.user
    pending = None if mfa.has_second_factor(user) else mfa.pending_totp_device(user)
    context = {
        "section": "security",
        "enabled": pending is None and mfa.has_second_factor(user),
        "pending": pending,
        "codes_left": mfa.recovery_codes_left(user),
        "setup_required": SETUP_REQUIRED_KEY in request.session,
        "code_form": CodeForm(),
        "remove_form": RemoveSecondFactorForm(user=user),
        **extra,
    }
    if pending is not None:
        # segno writes the SVG itself from the otpauth URI; no user text reaches the markup.
        qr = segno.make(pending.config_url, error="m")
        context["qr_svg"] = mark_safe(qr.svg_inline(scale=4, border=2, omitsize=False))  # noqa: S308
        context["secret"] = mfa.totp_secret(pending)
    if user.has_perm(roles.MANAGE_SETTINGS):
        context["policy_form"] = extra.get("policy_form") or SecondFactorPolicyForm(
            initial={"roles": sorted(mfa.required_roles())}
        )
    return render(request, "accounts/security.html", context, status=status)


@login_required
def security_settings(request):
    return _page(request)


@login_required
@require_POST
def start_setup(request):
    mfa.do_start_totp_setup(user=request.user)
    return redirect("security_settings")


@login_required
@require_POST
def confirm_setup(request):
    device = mfa.pending_totp_device(request.user)
    form = CodeForm(request.POST)
    codes = None
    if device is not None and form.is_valid():
        codes = mfa.do_confirm_totp(user=request.user, device=device, code=form.cleaned_data["code"])
    if codes is None:
        form.add_error(None, _("That code is not right. Enter the code your app shows now."))
        return _page(request, status=400, code_form=form)
    keep_current_session(request, request.user)
    request.session.pop(SETUP_REQUIRED_KEY, None)
    return _page(request, recovery_codes=codes, just_enabled=True)


@login_required
@require_POST
def regenerate_codes(request):
    if not mfa.has_second_factor(request.user):
        return redirect("security_settings")
    codes = mfa.do_regenerate_recovery_codes(user=request.user)
    return _page(request, recovery_codes=codes)


@login_required
@require_POST
def remove(request):
    form = RemoveSecondFactorForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, status=400, remove_form=form)
    mfa.do_remove_second_factor(user=request.user)
    keep_current_session(request, request.user)
    if mfa.second_factor_required(request.user):
        request.session[SETUP_REQUIRED_KEY] = True
    messages.success(request, _("The second factor is off. Your other sessions were signed out."))
    return redirect("security_settings")


@login_required
@require_POST
def set_policy(request):
    if not request.user.has_perm(roles.MANAGE_SETTINGS):
        raise PermissionDenied
    form = SecondFactorPolicyForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400, policy_form=form)
    mfa.do_set_required_roles(roles=set(form.cleaned_data["roles"]))
    messages.success(request, _("The second factor policy was saved."))
    return redirect("security_settings")
