"""The manager's survey pages: the list, the editor and each survey's page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages as flash
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import roles
from accounts.decorators import requires
from core.config_audit import track
from core.public_url import public_base_url
from surveys import links
from surveys import selectors as sel
from surveys.forms import ExtraQuestionForm, ExtraQuestionFormSet, SurveyForm, TriggerFormSet
from surveys.invitation_models import InvitationStatus
from surveys.models import Survey
from tickets.visibility import Visibility, visibility_for

QUESTIONS_PREFIX = "questions"
TRIGGERS_PREFIX = "triggers"


def _viewer(request: HttpRequest) -> Visibility:
    return visibility_for(request.user)  # type: ignore[arg-type]


@requires(roles.VIEW_SURVEYS)
def survey_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "surveys/survey_list.html", {"surveys": sel.surveys_with_stats(viewer=_viewer(request))}
    )


@requires(roles.VIEW_SURVEYS)
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    survey = sel.survey_for_page(pk)
    log_status = request.GET.get("log", "")
    viewer = _viewer(request)
    context = {
        "survey": survey,
        "summary": sel.score_summary(survey, viewer=viewer),
        "answers": sel.recent_answers(survey, viewer=viewer),
        "send_log": sel.send_log(survey, viewer=viewer, status=log_status),
        "log_status": log_status if log_status in InvitationStatus.values else "",
        "log_statuses": InvitationStatus.choices,
        "open_loops": sel.open_loops(survey, viewer=viewer),
        "triggers": list(sel.survey_triggers(survey)),
        "now": timezone.now(),
        "share_url": links.share_url(survey, base=public_base_url(request)),
    }
    if request.htmx and request.GET.get("part") == "log":  # type: ignore[attr-defined]
        return render(request, "surveys/_send_log.html", context)
    return render(request, "surveys/survey_detail.html", context)


@requires(roles.MANAGE_SURVEYS)
@require_POST
def survey_share(request: HttpRequest, pk: int) -> HttpResponse:
    links.do_enable_sharing(survey=sel.survey_for_page(pk))
    return redirect(reverse("survey_detail", args=[pk]) + "#share")


@requires(roles.MANAGE_SURVEYS)
@require_http_methods(["GET", "POST"])
def survey_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, Survey(owner=request.user))  # type: ignore[misc]


@requires(roles.MANAGE_SURVEYS)
@require_http_methods(["GET", "POST"])
def survey_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, sel.survey_for_page(pk))


def _grown(data: QueryDict, prefix: str) -> QueryDict:
    """The posted data with one more (empty) row in a formset: the "Add" buttons, without JavaScript."""
    data = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    data[key] = str(int(data.get(key) or 0) + 1)
    return data


def _edit(request: HttpRequest, survey: Survey) -> HttpResponse:
    is_new = survey.pk is None
    initial_questions = [ExtraQuestionForm.initial_for(q) for q in survey.extra_questions or []]
    if request.method == "POST":
        action = request.POST.get("action", "save")
        data: QueryDict = request.POST
        if action == "add_question":
            data = _grown(data, QUESTIONS_PREFIX)
        elif action == "add_trigger":
            data = _grown(data, TRIGGERS_PREFIX)
        form = SurveyForm(data, instance=survey)
        questions = ExtraQuestionFormSet(data, initial=initial_questions, prefix=QUESTIONS_PREFIX)
        triggers = TriggerFormSet(data, instance=survey, prefix=TRIGGERS_PREFIX)
        if action == "save" and form.is_valid() and questions.is_valid() and triggers.is_valid():
            with transaction.atomic():
                changes = track(survey, *triggers.get_queryset())
                survey = form.save(commit=False)
                survey.extra_questions = questions.questions()
                survey.save()
                triggers.instance = survey
                triggers.save()
                changes.record(created=triggers.new_objects)
            flash.success(request, _("Survey saved."))
            return redirect("survey_detail", pk=survey.pk)
    else:
        form = SurveyForm(instance=survey)
        questions = ExtraQuestionFormSet(initial=initial_questions, prefix=QUESTIONS_PREFIX)
        triggers = TriggerFormSet(instance=survey, prefix=TRIGGERS_PREFIX)
    context: dict[str, Any] = {
        "survey": None if is_new else survey,
        "form": form,
        "questions": questions,
        "triggers": triggers,
    }
    status = 400 if request.method == "POST" and request.POST.get("action", "save") == "save" else 200
    return render(request, "surveys/survey_form.html", context, status=status)
