"""The second step of signing in, shared by the app login and the Django admin login.

After the password, a user with a second factor is not signed in yet: the session only remembers who
passed the password (for a few minutes) and the next request must bring a code. Django's `login()` runs
only after that, so no page, API call or websocket ever sees a half-signed-in session.
"""

from __future__ import annotations

import time

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from accounts import mfa
from accounts.models import User

PENDING_KEY = "cxm_mfa_pending"
# Set on a signed-in session whose user must set up a second factor before using the app.
SETUP_REQUIRED_KEY = "cxm_mfa_setup_required"
# Set when a user with a second factor got signed in without it (any path other than the code step).
UNVERIFIED_KEY = "cxm_mfa_unverified"
PENDING_SECONDS = 300


def start_pending(request: HttpRequest, user: User, *, redirect_to: str) -> None:
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": getattr(user, "backend", ""),
        "next": redirect_to,
        "at": time.time(),
    }


def clear_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def pending_user(request: HttpRequest) -> tuple[User, dict] | None:
    state = request.session.get(PENDING_KEY)
    if not isinstance(state, dict) or time.time() - float(state.get("at", 0)) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=int(state.get("user") or 0), is_active=True).first()
    return (user, state) if user is not None else None


class TwoStepLoginMixin(auth_views.LoginView):
    """For a `django.contrib.auth.views.LoginView`: password first, then a code when the user has a
    second factor. Both steps are throttled per account and address (django-axes)."""

    code_template_name = "accounts/login_code.html"
    request: HttpRequest

    def get(self, request, *args, **kwargs):
        if "restart" in request.GET:
            clear_pending(request)
        if pending_user(request) is not None:
            return self._render_code_step(error=False)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        pending = pending_user(request)
        if pending is not None and "code" in request.POST:
            return self._check_code(request, *pending)
        clear_pending(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        if mfa.has_second_factor(user):
            start_pending(self.request, user, redirect_to=self.get_success_url())
            return HttpResponseRedirect(self.request.get_full_path())
        return super().form_valid(form)

    def _check_code(self, request: HttpRequest, user: User, state: dict) -> HttpResponse:
        credentials = {"username": user.get_username()}
        if not AxesProxyHandler.is_allowed(request, credentials):
            request.axes_locked_out = True  # type: ignore[attr-defined]  # read by the axes middleware
            return self._render_code_step(error=True)
        device = mfa.verify_second_factor(user=user, code=request.POST.get("code", ""))
        if device is None:
            # A wrong code counts like a wrong password: the account and the address lock alike.
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            return self._render_code_step(error=True)
        clear_pending(request)
        user.otp_device = device  # type: ignore[attr-defined]  # django-otp keeps it in the session at login
        auth_login(request, user, backend=state.get("backend") or None)
        return HttpResponseRedirect(state.get("next") or self.get_default_redirect_url())

    def _render_code_step(self, *, error: bool) -> HttpResponse:
        return render(
            self.request,
            self.code_template_name,
            {"error": error, "restart_url": f"{self.request.path}?restart=1"},
            status=400 if error else 200,
        )


def keep_current_session(request: HttpRequest, user: User) -> None:
    """After the security stamp changed: every other session of the user is over, this one goes on
    under a new key."""
    update_session_auth_hash(request, user)
    request.session.pop(UNVERIFIED_KEY, None)


def on_user_logged_in(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    """Every login, whatever the path: clear this account's failed attempts and apply the policy."""
    axes_reset(username=user.get_username())
    if request is None or not hasattr(request, "session"):
        return
    has_factor = mfa.has_second_factor(user)
    if has_factor and getattr(user, "otp_device", None) is None:
        request.session[UNVERIFIED_KEY] = True
    if not has_factor and mfa.second_factor_required(user):
        request.session[SETUP_REQUIRED_KEY] = True
