"""The pages customers answer on: no login, no JavaScript, the invitation's token as the only key.

CSRF: the answer and opt-out forms are csrf_exempt on purpose. CSRF defends ambient authority (a
session cookie); these views use none — they never read request.user or the session, and a request
only acts on the invitation whose secret token is in its URL, which a forging site cannot know.
Customers arrive from mail apps and in-app browsers without any cookie, and RFC 8058 one-click
unsubscribes are POSTed by the mail provider, so a CSRF cookie check would refuse real customers
without protecting anything. The session and CSRF cookies elsewhere keep SameSite=Lax.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from accounts.decorators import requires
from accounts.roles import MANAGE_SURVEYS
from core.public_url import public_base_url
from surveys import links, texts
from surveys.answers import AnswerError, do_complete_answer, do_record_answer
from surveys.consent import do_record_survey_consent
from surveys.fatigue import opted_out
from surveys.invitation_models import Invitation, InvitationStatus
from surveys.models import Survey, SurveyResponse
from surveys.public_rate import check_public_rate, too_many_requests

ANSWER_BUCKET = "answer"
SHARE_BUCKET = "share"
OPT_OUT_BUCKET = "opt-out"


def _headers(response: HttpResponse) -> HttpResponse:
    # Token URLs must not be cached by shared proxies, indexed, or leaked through Referer.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    language = context.get("language") or translation.get_language()
    with translation.override(language):
        context = {**context, "language": language}
        response = render(request, f"surveys/public/{template}", context, status=status)
    response["Content-Language"] = language
    return _headers(response)


def _message(request: HttpRequest, language: str, title: str, message: str, status: int) -> HttpResponse:
    return _page(request, "message.html", {"language": language, "title": title, "message": message}, status)


def _not_found(request: HttpRequest, language: str = "") -> HttpResponse:
    language = language or translation.get_language()
    with translation.override(language):
        return _message(
            request,
            language,
            _("Survey not found"),
            _("This survey link is not valid. Please check that you opened the whole link."),
            404,
        )


def _load(token: str) -> Invitation | None:
    # One query for everything a page needs; the response rides along so answered states need no more.
    return Invitation.objects.select_related("survey", "response").filter(token=token).first()


def _response_of(invitation: Invitation) -> SurveyResponse | None:
    try:
        return invitation.response
    except SurveyResponse.DoesNotExist:
        return None


def _own(texts_: Any, language: str) -> str:
    if not isinstance(texts_, dict):
        return ""
    return str(texts_.get(language) or texts_.get("en") or next(iter(texts_.values()), "") or "").strip()


def _extra_questions(survey: Survey, language: str) -> list[dict[str, Any]]:
    rows = []
    for question in survey.extra_questions or []:
        if not isinstance(question, dict) or not question.get("id"):
            continue
        text = _own(question.get("text") or {}, language)
        if not text:
            continue
        options = []
        for choice in question.get("choices") or []:
            label = _own(choice, language) if isinstance(choice, dict) else str(choice)
            # The stored value is the English (or first) wording so answers in all languages count together.
            value = _own(choice, "en") if isinstance(choice, dict) else str(choice)
            if label:
                options.append({"value": value or label, "label": label})
        qid = str(question["id"])
        rows.append({"id": qid, "name": f"q_{qid}", "text": text, "choices": options})
    return rows


def _context(invitation: Invitation, language: str, **extra: Any) -> dict[str, Any]:
    survey = invitation.survey
    low, high = texts.scale_ends(survey, language)
    return {
        "language": language,
        "invitation": invitation,
        "survey": survey,
        "question": texts.question_text(survey, language),
        "choices": texts.choices(survey, language),
        "low_label": low,
        "high_label": high,
        "follow_up": texts.follow_up_text(survey, language),
        "extra_questions": _extra_questions(survey, language),
        "answer_url": reverse("survey_public:answer", kwargs={"token": invitation.token}),
        "opt_out_url": reverse("survey_public:opt_out", kwargs={"token": invitation.token})
        if invitation.customer_id
        else "",
        **extra,
    }


def _posted_answers(request: HttpRequest, invitation: Invitation) -> dict[str, str]:
    ids = [str(q.get("id")) for q in invitation.survey.extra_questions or [] if isinstance(q, dict)]
    return {qid: request.POST.get(f"q_{qid}", "") for qid in ids if request.POST.get(f"q_{qid}")}


def _refused(request: HttpRequest, invitation: Invitation, language: str, code: str) -> HttpResponse:
    if code == AnswerError.EXPIRED:
        return _message(
            request,
            language,
            _("This survey has closed"),
            _("Thank you for wanting to answer. This survey is no longer open for new answers."),
            410,
        )
    if code == AnswerError.NOT_SENT:
        return _message(
            request, language, _("This survey has closed"), _("This survey is not open for answers."), 410
        )
    if code == AnswerError.UNKNOWN:
        return _not_found(request, language)
    # Answered: the same polite page as a second visit, with the score we kept.
    invitation = _load(invitation.token) or invitation
    return _done(request, invitation, language, again=True)


def _done(request: HttpRequest, invitation: Invitation, language: str, *, again: bool) -> HttpResponse:
    response = _response_of(invitation)
    can_finish = bool(response and not response.is_complete)
    return _page(
        request,
        "done.html",
        _context(invitation, language, response=response, again=again, can_finish=can_finish),
    )


def _follow_up_page(request: HttpRequest, invitation: Invitation, language: str, response) -> HttpResponse:
    context = _context(invitation, language, response=response)
    if not context["follow_up"] and not context["extra_questions"]:
        # Nothing more to ask: the score was the whole survey.
        do_complete_answer(token=invitation.token)
        return _done(request, invitation, language, again=False)
    return _page(request, "followup.html", context)


def _invalid(request: HttpRequest, invitation: Invitation, language: str) -> HttpResponse:
    low, high = invitation.survey.scale
    with translation.override(language):
        error = _("Please choose a score from %(low)s to %(high)s.") % {"low": low, "high": high}
    return _page(request, "question.html", _context(invitation, language, error=error), 400)


def _open(request: HttpRequest, token: str):
    """(invitation, its language, its answer so far) for a public survey page, or the refusal to send."""
    if not check_public_rate(request, ANSWER_BUCKET):
        return too_many_requests(request)
    invitation = _load(token)
    if invitation is None:
        return _not_found(request)
    return invitation, texts.pick_language(invitation.locale), _response_of(invitation)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The survey page: the question, or the follow-up after a one-click score, or the thanks."""
    opened = _open(request, token)
    if isinstance(opened, HttpResponse):
        return opened
    invitation, language, response = opened
    with translation.override(language):
        if request.method == "POST":
            return _answer_post(request, invitation, language, response)
        if response is not None:
            if response.is_complete:
                return _done(request, invitation, language, again=True)
            return _page(request, "followup.html", _context(invitation, language, response=response))
        if invitation.status in (InvitationStatus.THROTTLED, InvitationStatus.FAILED):
            return _refused(request, invitation, language, AnswerError.NOT_SENT)
        if invitation.expires_at <= timezone.now():
            return _refused(request, invitation, language, AnswerError.EXPIRED)
        return _page(request, "question.html", _context(invitation, language))


def _answer_post(request: HttpRequest, invitation: Invitation, language: str, response) -> HttpResponse:
    comment = request.POST.get("comment", "")
    answers = _posted_answers(request, invitation)
    try:
        if response is not None and not response.is_complete:
            do_complete_answer(token=invitation.token, comment=comment, answers=answers)
        else:
            if "score" not in request.POST and response is None:
                return _invalid(request, invitation, language)
            do_record_answer(
                token=invitation.token,
                score=request.POST.get("score"),
                comment=comment,
                answers=answers,
                medium=invitation.medium,
                complete=True,
            )
    except AnswerError as exc:
        if exc.code == AnswerError.INVALID:
            return _invalid(request, invitation, language)
        return _refused(request, invitation, language, exc.code)
    return _done(request, _load(invitation.token) or invitation, language, again=False)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def one_click(request: HttpRequest, token: str, score: str) -> HttpResponse:
    """The score links in the invitation email: the click is the answer."""
    if request.method == "HEAD":
        # Link checkers and mail scanners probe with HEAD; only a real visit may answer (or count).
        return _headers(HttpResponse(status=200))
    opened = _open(request, token)
    if isinstance(opened, HttpResponse):
        return opened
    invitation, language, response = opened
    with translation.override(language):
        if request.method == "POST":
            return _answer_post(request, invitation, language, response)
        if response is not None:
            # Opening the same link again continues where the customer left; another score does not
            # overwrite the first answer.
            if not response.is_complete and str(response.score) == score:
                return _page(request, "followup.html", _context(invitation, language, response=response))
            return _done(request, invitation, language, again=True)
        try:
            recorded = do_record_answer(token=token, score=score, medium=invitation.medium, complete=False)
        except AnswerError as exc:
            if exc.code == AnswerError.INVALID:
                return _invalid(request, invitation, language)
            return _refused(request, invitation, language, exc.code)
        return _follow_up_page(request, invitation, language, recorded)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def opt_out(request: HttpRequest, token: str) -> HttpResponse:
    """Stop survey invitations; GET asks to confirm, POST (the button, or RFC 8058 one-click) does it.

    Works whatever the invitation's state: an expired or answered survey still carries the way out.
    """
    # Mail providers send one-click unsubscribes from few addresses, so this bucket is roomier.
    if not check_public_rate(request, OPT_OUT_BUCKET, limit=_opt_out_limit()):
        return too_many_requests(request)
    invitation = Invitation.objects.select_related("customer").filter(token=token).first()
    if invitation is None:
        return _not_found(request)
    language = texts.pick_language(invitation.locale)
    customer = invitation.customer
    done = customer is None or opted_out(customer)
    if request.method == "POST" and customer is not None and not done:
        one_click_post = request.POST.get("List-Unsubscribe") == "One-Click"
        do_record_survey_consent(
            customer=customer,
            opted_out=True,
            source="email:list-unsubscribe" if one_click_post else f"survey-page:{invitation.medium}",
        )
        done = True
    context = {"language": language, "done": done, "opt_out_url": request.path}
    return _page(request, "opt_out.html", context)


def _opt_out_limit() -> int:
    return settings.SURVEY_PUBLIC_RATE_PER_MINUTE * 10


@require_safe
def share(request: HttpRequest, public_key: str) -> HttpResponse:
    """The printed or shared link: every visit gets its own invitation, then the survey page."""
    if not check_public_rate(request, SHARE_BUCKET, limit=_share_limit()):
        return too_many_requests(request)
    survey = Survey.objects.filter(public_key=public_key).first()
    if survey is None:
        return _not_found(request)
    if request.method == "HEAD":
        # Link previews probe with HEAD; minting a token for them would only inflate the invitations.
        return _headers(HttpResponse(status=200))
    language = texts.pick_language(translation.get_language_from_request(request))
    invitation = links.do_open_link_invitation(survey=survey, language=language)
    if invitation.status == InvitationStatus.THROTTLED:
        with translation.override(language):
            return _refused(request, invitation, language, AnswerError.NOT_SENT)
    # no-store: a cached redirect would hand every later visitor this visitor's token.
    return _headers(HttpResponseRedirect(reverse("survey_public:answer", kwargs={"token": invitation.token})))


def _share_limit() -> int:
    # Each visit writes an invitation, so minting is held tighter than reading pages.
    return max(5, settings.SURVEY_PUBLIC_RATE_PER_MINUTE // 4)


@requires(MANAGE_SURVEYS)
@require_safe
def share_qr(request: HttpRequest, public_key: str) -> HttpResponse:
    survey = Survey.objects.filter(public_key=public_key).first()
    if survey is None:
        raise Http404
    response = HttpResponse(
        links.qr_svg(links.share_url(survey, base=public_base_url(request))), content_type="image/svg+xml"
    )
    response["Content-Disposition"] = f'inline; filename="survey-{survey.pk}-qr.svg"'
    return response
