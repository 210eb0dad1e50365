from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts.mfa_login import SETUP_REQUIRED_KEY, UNVERIFIED_KEY


class SecondFactorMiddleware:
    """Holds signed-in sessions to the second-factor rules, for the app and the Django admin alike.

    Reads only session flags set at login (accounts.mfa_login), so it costs no query per request:
    - a user whose role requires a second factor and who has none may open only the security page
      (and log out, switch language) until one is set up;
    - a user with a second factor who was signed in without it is signed out again.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is None or not (SETUP_REQUIRED_KEY in session or UNVERIFIED_KEY in session):
            return self.get_response(request)
        if UNVERIFIED_KEY in session:
            logout(request)
            return self._redirect(request, reverse(settings.LOGIN_URL))
        if not request.user.is_authenticated:
            return self.get_response(request)
        allowed = (
            reverse("security_settings"),
            reverse("logout"),
            reverse("set_language"),
            "/" + settings.STATIC_URL.lstrip("/"),
        )
        if request.path.startswith(allowed):
            return self.get_response(request)
        return self._redirect(request, reverse("security_settings"))

    @staticmethod
    def _redirect(request: HttpRequest, url: str) -> HttpResponse:
        if request.headers.get("HX-Request") == "true":
            # htmx would swap a redirected page into a fragment; make the browser navigate instead.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)
