"""The embedded survey widget's public JSON endpoints, its script, and its settings page.

The endpoints are called by pages of other sites, so they answer CORS themselves (Django's CSRF and
ALLOWED_HOSTS-style checks cannot apply); they never use cookies, except the settings page's preview,
which is same-origin and read-only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from accounts import roles
from accounts.decorators import requires
from channels_app.webchat.origins import normalize_origin, origin_allowed
from core.public_url import public_base_url
from surveys import widget_services as ws
from surveys.answers import AnswerError, do_complete_answer, do_record_answer
from surveys.invitation_models import Medium
from surveys.models import Survey
from surveys.public_rate import check_public_rate, too_many_requests
from surveys.texts import pick_language

MAX_BODY = 16_000
PREFLIGHT_MAX_AGE_S = 600
SCRIPT_MAX_AGE_S = 300
ANSWER_STATUS = {
    AnswerError.UNKNOWN: 404,
    AnswerError.EXPIRED: 410,
    AnswerError.ANSWERED: 409,
    AnswerError.INVALID: 400,
    AnswerError.NOT_SENT: 409,
}


# --- CORS ---------------------------------------------------------------------------------------------
def _origin(request: HttpRequest) -> str:
    return request.headers.get("Origin", "")


def _cors(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    origin = _origin(request)
    if origin:
        # Echoed rather than "*": the answer differs per origin when a survey lists its sites.
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    response["Cache-Control"] = response.get("Cache-Control", "no-store")
    return response


def _allowed(request: HttpRequest, survey: Survey) -> bool:
    # Browsers always send Origin on cross-origin fetches; a request without one is the same site or a
    # script outside a browser, which no origin list could stop anyway.
    origin = _origin(request)
    return not origin or origin_allowed(origin, ws.rules_of(survey).allowed_origins)


def _error(request: HttpRequest, code: str, status: int) -> HttpResponse:
    return _cors(JsonResponse({"error": code}, status=status), request)


def _preflight(request: HttpRequest) -> HttpResponse:
    response = _cors(HttpResponse(status=204), request)
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
    return response


def _rate_limited(request: HttpRequest, bucket: str, factor: int = 1) -> HttpResponse | None:
    if check_public_rate(request, bucket, settings.SURVEY_PUBLIC_RATE_PER_MINUTE * factor):
        return None
    return _cors(too_many_requests(request, as_json=True), request)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY:
        raise ws.WidgetError("too_large", 413)
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ws.WidgetError("bad_json") from None
    if not isinstance(data, dict):
        raise ws.WidgetError("bad_json")
    return data


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


# --- Public endpoints ---------------------------------------------------------------------------------
@csrf_exempt
def show(request: HttpRequest, public_key: str) -> HttpResponse:
    """GET: the display rules (no writes; the widget waits and checks the page path with them).
    POST: decide for this visitor and, only when showing, create the invitation and send the texts."""
    if request.method == "OPTIONS":
        return _preflight(request)
    if request.method not in ("GET", "POST"):
        return _error(request, "method", 405)
    # The rules are read on every page view of the site (a whole office may share one address); an
    # invitation only after the delay, on matching pages.
    if request.method == "GET":
        limited = _rate_limited(request, "widget-rules", factor=10)
    else:
        limited = _rate_limited(request, "widget-show")
    if limited:
        return limited
    survey = ws.find_survey(public_key)
    if survey is None:
        return _error(request, "not_found", 404)
    if not _allowed(request, survey):
        return _error(request, "origin", 403)
    rules = ws.rules_of(survey)
    if request.method == "GET":
        response = JsonResponse({"rules": rules.as_public(), "recontact_days": survey.recontact_days})
        response["Cache-Control"] = "public, max-age=60"
        return _cors(response, request)
    try:
        data = _json_body(request)
        language = pick_language(_text(data.get("language"), 35))
        if data.get("preview") is True:
            return _cors(_preview(request, survey, language), request)
        visitor = ws.check_visitor(
            customer_id=data.get("customer"), signature=data.get("signature"), visitor_id=data.get("visitor")
        )
        decision = ws.do_decide_and_invite(
            survey=survey, visitor=visitor, path=_text(data.get("path"), 2000), language=language,
            token=data.get("token"),
        )  # fmt: skip
    except ws.WidgetError as error:
        return _error(request, error.code, error.status)
    if not decision.show or decision.invitation is None:
        return _cors(JsonResponse({"show": False, "reason": decision.reason}), request)
    body = {"show": True, "token": decision.invitation.token, **ws.survey_content(survey, language)}
    return _cors(JsonResponse(body), request)


def _preview(request: HttpRequest, survey: Survey, language: str) -> HttpResponse:
    # The settings page shows the real widget; it sends the session cookie only there (same origin).
    if not request.user.is_authenticated or not request.user.has_perm(roles.MANAGE_SURVEYS):
        return JsonResponse({"error": "forbidden"}, status=403)
    return JsonResponse({"show": True, "token": "", "preview": True, **ws.survey_content(survey, language)})


@csrf_exempt
def answer(request: HttpRequest) -> HttpResponse:
    """{token, score} records the score; {token, comment} then completes it; both at once do both."""
    if request.method == "OPTIONS":
        return _preflight(request)
    if request.method != "POST":
        return _error(request, "method", 405)
    limited = _rate_limited(request, "widget-answer")
    if limited:
        return limited
    try:
        data = _json_body(request)
    except ws.WidgetError as error:
        return _error(request, error.code, error.status)
    invitation = ws.answer_invitation(data.get("token"))
    if invitation is None:
        return _error(request, AnswerError.UNKNOWN, 404)
    if not _allowed(request, invitation.survey):
        return _error(request, "origin", 403)
    comment = _text(data.get("comment"), 10_000)
    try:
        if "score" in data:
            has_follow_up = bool(ws.texts.follow_up_text(invitation.survey, "en"))
            response = do_record_answer(
                token=invitation.token,
                score=data["score"],
                comment=comment,
                medium=Medium.WIDGET,
                complete=bool(comment) or not has_follow_up,
            )
        else:
            response = do_complete_answer(token=invitation.token, comment=comment)
    except AnswerError as error:
        return _error(request, error.code, ANSWER_STATUS.get(error.code, 400))
    return _cors(JsonResponse({"ok": True, "complete": response.is_complete}), request)


_script_cache: dict[str, tuple[float, bytes, str]] = {}


def script_file() -> Path:
    return Path(settings.BASE_DIR) / "static" / "survey-widget" / "widget.js"


def script(request: HttpRequest) -> HttpResponse:
    """widget.js at a fixed address: sites paste it once, so it must not carry a build hash."""
    path = script_file()
    mtime = path.stat().st_mtime
    cached = _script_cache.get("js")
    if cached is None or cached[0] != mtime:
        body = path.read_bytes()
        cached = (mtime, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        _script_cache["js"] = cached
    _, body, etag = cached
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE_S}"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- Settings page ------------------------------------------------------------------------------------
def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class WidgetRulesForm(forms.Form):
    delay_seconds = forms.IntegerField(
        label=gettext_lazy("Show after (seconds on the page)"), min_value=0, max_value=ws.MAX_DELAY_S
    )
    paths = forms.CharField(
        label=gettext_lazy("Only on these pages"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "/checkout*\n/account/*"}),
        help_text=gettext_lazy("One path per line; * matches anything. Empty: every page."),
    )
    signed_in_only = forms.BooleanField(label=gettext_lazy("Only signed-in customers"), required=False)
    allowed_origins = forms.CharField(
        label=gettext_lazy("Allowed websites"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://shop.example.com"}),
        help_text=gettext_lazy("One per line, such as https://shop.example.com. Empty: any website."),
    )

    def clean_paths(self) -> list[str]:
        paths = _lines(self.cleaned_data["paths"])
        if any(not p.startswith(("/", "*")) for p in paths):
            raise forms.ValidationError(_("Each path must start with / or *."))
        if len(paths) > ws.MAX_PATHS:
            raise forms.ValidationError(_("At most %(count)s paths.") % {"count": ws.MAX_PATHS})
        return paths

    def clean_allowed_origins(self) -> list[str]:
        origins = _lines(self.cleaned_data["allowed_origins"])
        bad = [o for o in origins if not normalize_origin(o)]
        if bad:
            raise forms.ValidationError(
                _(
                    "Not a website address: %(value)s. Use a scheme and host, such as https://shop.example.com."
                )
                % {"value": bad[0]}
            )
        if len(origins) > ws.MAX_ORIGINS:
            raise forms.ValidationError(_("At most %(count)s websites.") % {"count": ws.MAX_ORIGINS})
        return origins


@requires(roles.MANAGE_SURVEYS)
def widget_settings(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = get_object_or_404(Survey, pk=survey_id)
    if request.method == "POST" and request.POST.get("action") == "enable":
        ws.do_enable_widget(survey=survey)
        return redirect(reverse("survey_widget_settings", args=[survey.pk]))
    rules = ws.rules_of(survey)
    initial = {
        "delay_seconds": rules.delay_seconds,
        "paths": "\n".join(rules.paths),
        "signed_in_only": rules.signed_in_only,
        "allowed_origins": "\n".join(rules.allowed_origins),
    }
    form = WidgetRulesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        ws.do_update_widget_rules(survey=survey, **form.cleaned_data)
        messages.success(request, _("Widget settings saved."))
        return redirect(reverse("survey_widget_settings", args=[survey.pk]))
    base = public_base_url(request)
    return render(
        request,
        "surveys/settings/widget.html",
        {
            "survey": survey,
            "form": form,
            "rules": rules,
            "script_url": base + reverse("survey_widget_script"),
            "preview_script_url": reverse("survey_widget_script"),
            "example_signature": ws.signature_for("42"),
            "identity_secret": ws.identity_secret(),
        },
    )
