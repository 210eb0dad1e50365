"""The manager's survey pages: list, editor, and the survey page with its open loops and send log."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team
from profiles.models import Segment
from surveys.invitation_models import FollowUp, InvitationStatus, Trigger, TriggerKind
from surveys.models import Survey, SurveyKind, SurveyResponse
from tickets.models import Conversation

from . import factories as f

pytestmark = pytest.mark.django_db


def answer(survey, person, score, *, comment="", conversation=None, channel=None, agent=None):
    return SurveyResponse.objects.create(
        survey=survey,
        customer=person,
        score=score,
        comment=comment,
        conversation=conversation,
        channel=channel,
        agent=agent,
        created_at=timezone.now(),
    )


def follow_up(response, *, assignee=None, closed=False):
    now = timezone.now()
    conversation = Conversation.objects.create(
        customer=response.customer,
        channel=f.sms_channel(f"Follow-ups {response.pk}"),
        assignee=assignee,
        subject="Follow up",
        created_at=now,
        last_activity_at=now,
    )
    return FollowUp.objects.create(
        response=response, conversation=conversation, closed_at=now if closed else None
    )


def populate(survey, n, agent):
    channel = f.sms_channel(f"SMS {survey.pk}-{n}")
    for i in range(n):
        person = f.customer(f"Person {survey.pk}-{n}-{i}", phone=f"+4860{survey.pk:03d}{n:02d}{i:02d}")
        response = answer(survey, person, i % 11, comment=f"comment {i}", channel=channel, agent=agent)
        f.invitation(survey, person, channel=channel)
        throttled = f.invitation(survey, person, status=InvitationStatus.THROTTLED)
        throttled.reason = "Asked this survey less than 90 days ago."
        throttled.save()
        if response.score <= 6:
            follow_up(response, assignee=agent)


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_list_shows_scores_and_costs_constant_queries(manager_client, agent):
    nps = f.survey(name="Support NPS")
    populate(nps, 2, agent)
    baseline = queries(manager_client, reverse("survey_list"))
    populate(nps, 6, agent)
    for n in range(3):
        populate(f.survey(SurveyKind.CSAT, name=f"CSAT {n}"), 3, agent)
    assert queries(manager_client, reverse("survey_list")) == baseline
    page = manager_client.get(reverse("survey_list")).content.decode()
    assert "Support NPS" in page and "NPS" in page and "satisfied" in page


def test_detail_shows_open_loops_and_send_log(manager_client, agent):
    survey = f.survey(name="Support NPS")
    person = f.customer("Grumpy Gus")
    unhappy = answer(survey, person, 2, comment="Nobody answered for a week")
    loop = follow_up(unhappy, assignee=agent)
    closed = follow_up(answer(survey, f.customer("Calm Carla", phone="+48600000001"), 3), closed=True)
    throttled = f.invitation(survey, person, status=InvitationStatus.THROTTLED)
    throttled.reason = "The customer opted out of surveys."
    throttled.save()

    response = manager_client.get(reverse("survey_detail", args=[survey.pk]))
    assert response.status_code == 200
    loops = response.context["open_loops"]
    assert loops == [loop] and closed not in loops
    page = response.content.decode()
    assert 'data-testid="open-loops"' in page
    assert f'data-follow-up-id="{loop.pk}"' in page
    assert reverse("conversation_detail", args=[loop.conversation_id]) in page
    assert agent.display_name in page
    assert "The customer opted out of surveys." in page
    assert 'data-status="throttled"' in page


def test_send_log_filters_by_status(manager_client):
    survey = f.survey()
    person = f.customer()
    f.invitation(survey, person)
    f.invitation(survey, person, status=InvitationStatus.THROTTLED)
    url = reverse("survey_detail", args=[survey.pk]) + "?part=log&log=throttled"
    response = manager_client.get(url, HTTP_HX_REQUEST="true")
    assert [i.status for i in response.context["send_log"]] == [InvitationStatus.THROTTLED]
    assert "<html" not in response.content.decode()


def test_detail_costs_constant_queries(manager_client, agent):
    survey = f.survey(name="Support NPS")
    populate(survey, 2, agent)
    url = reverse("survey_detail", args=[survey.pk])
    baseline = queries(manager_client, url)
    populate(survey, 8, agent)
    Trigger.objects.create(survey=survey, kind=TriggerKind.RESOLVED)
    assert queries(manager_client, url) <= baseline + 1  # +1: the triggers' channels prefetch
    assert len(manager_client.get(url).context["open_loops"]) > 2


def test_agents_view_but_cannot_edit(agent_client, client):
    survey = f.survey()
    assert agent_client.get(reverse("survey_detail", args=[survey.pk])).status_code == 200
    assert agent_client.get(reverse("survey_edit", args=[survey.pk])).status_code == 403
    assert agent_client.post(reverse("survey_create"), {"name": "x"}).status_code == 403
    assert client.get(reverse("survey_detail", args=[survey.pk])).status_code == 302


def form_data(**overrides):
    data = {
        "name": "Post-delivery CSAT",
        "kind": "csat",
        "scale_max": "3",
        "scale_style": "emoji",
        "is_active": "on",
        "starts_at": "2026-01-01T00:00",
        "ends_at": "",
        "owner": "",
        "recontact_days": "60",
        "sampling_percent": "50",
        "expiry_days": "7",
        "detractor_threshold": "",
        "followup_team": "",
        "question_en": "How was your delivery?",
        "question_ru": "Как прошла доставка?",
        "question_pl": "Jak oceniasz dostawę?",
        "followup_en": "What could we do better?",
        "followup_ru": "Что нам улучшить?",
        "followup_pl": "Co możemy poprawić?",
        "questions-TOTAL_FORMS": "1",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "10",
        "questions-0-qid": "speed",
        "questions-0-text_en": "Was it fast?",
        "questions-0-text_ru": "Было быстро?",
        "questions-0-text_pl": "Czy było szybko?",
        "questions-0-choices": "Yes | Да | Tak\nNo | Нет | Nie",
        "triggers-TOTAL_FORMS": "1",
        "triggers-INITIAL_FORMS": "0",
        "triggers-MIN_NUM_FORMS": "0",
        "triggers-MAX_NUM_FORMS": "20",
        "triggers-0-kind": "event",
        "triggers-0-is_active": "on",
        "triggers-0-delay_minutes": "60",
        "triggers-0-event_name": "order_delivered",
        "triggers-0-segment": "",
        "triggers-0-every_days": "",
        "triggers-0-medium": "email",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_create_with_texts_in_three_languages(manager_client, manager):
    team = Team.objects.create(name="Care")
    response = manager_client.post(reverse("survey_create"), form_data(followup_team=str(team.pk)))
    assert response.status_code == 302, response.content.decode()[:3000]
    survey = Survey.objects.get()
    assert response["Location"] == reverse("survey_detail", args=[survey.pk])
    assert survey.question == {
        "en": "How was your delivery?",
        "ru": "Как прошла доставка?",
        "pl": "Jak oceniasz dostawę?",
    }
    assert survey.followup_question["pl"] == "Co możemy poprawić?"
    assert survey.extra_questions == [
        {
            "id": "speed",
            "text": {"en": "Was it fast?", "ru": "Было быстро?", "pl": "Czy było szybko?"},
            "choices": [{"en": "Yes", "ru": "Да", "pl": "Tak"}, {"en": "No", "ru": "Нет", "pl": "Nie"}],
        }
    ]
    assert survey.scale == (1, 3) and survey.scale_style == "emoji" and survey.sampling_percent == 50
    assert survey.followup_team == team
    trigger = survey.triggers.get()
    assert trigger.kind == TriggerKind.EVENT and trigger.event_name == "order_delivered"


def test_edit_keeps_rows_and_removes_a_trigger(manager_client):
    segment = Segment.objects.create(name="Everyone", definition=[])
    survey = Survey.objects.create(
        kind="nps", name="Relationship NPS", question={"en": "Recommend us?"},
        extra_questions=[{"id": "why", "text": {"en": "Why?"}}],
    )  # fmt: skip
    keep = Trigger.objects.create(survey=survey, kind=TriggerKind.SCHEDULE, segment=segment, every_days=90)
    drop = Trigger.objects.create(survey=survey, kind=TriggerKind.RESOLVED)

    page = manager_client.get(reverse("survey_edit", args=[survey.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Recommend us?" in html and 'value="why"' in html

    data = form_data(
        name="Relationship NPS",
        kind="nps",
        scale_max="",
        scale_style="numbers",
        question_en="Would you recommend us?",
        question_ru="Порекомендуете нас?",
        question_pl="Polecisz nas?",
        **{
            "questions-INITIAL_FORMS": "1",
            "questions-0-qid": "why",
            "questions-0-text_en": "Why?",
            "questions-0-text_ru": "",
            "questions-0-text_pl": "Dlaczego?",
            "questions-0-choices": "",
            "triggers-TOTAL_FORMS": "2",
            "triggers-INITIAL_FORMS": "2",
            "triggers-0-id": str(keep.pk),
            "triggers-0-survey": str(survey.pk),
            "triggers-0-kind": "schedule",
            "triggers-0-is_active": "on",
            "triggers-0-delay_minutes": "0",
            "triggers-0-event_name": "",
            "triggers-0-segment": str(segment.pk),
            "triggers-0-every_days": "91",
            "triggers-0-medium": "",
            "triggers-1-id": str(drop.pk),
            "triggers-1-survey": str(survey.pk),
            "triggers-1-kind": "resolved",
            "triggers-1-delay_minutes": "60",
            "triggers-1-DELETE": "on",
        },
    )
    response = manager_client.post(reverse("survey_edit", args=[survey.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    survey.refresh_from_db()
    assert survey.question == {
        "en": "Would you recommend us?",
        "ru": "Порекомендуете нас?",
        "pl": "Polecisz nas?",
    }
    assert survey.extra_questions == [{"id": "why", "text": {"en": "Why?", "pl": "Dlaczego?"}}]
    assert list(survey.triggers.values_list("pk", "every_days")) == [(keep.pk, 91)]


def test_invalid_form_shows_errors(manager_client):
    data = form_data(kind="nps", scale_style="stars", sampling_percent="0", **{"triggers-0-kind": "schedule"})
    response = manager_client.post(reverse("survey_create"), data)
    assert response.status_code == 400
    assert not Survey.objects.exists()
    form = response.context["form"]
    assert "scale_style" in form.errors and "sampling_percent" in form.errors
    trigger_errors = response.context["triggers"].forms[0].errors
    assert "segment" in trigger_errors and "every_days" in trigger_errors


def test_add_question_button_adds_a_row_without_saving(manager_client):
    response = manager_client.post(reverse("survey_create"), form_data(action="add_question"))
    assert response.status_code == 200
    assert len(response.context["questions"].forms) == 2
    assert not Survey.objects.exists()


def test_new_survey_page_renders(manager_client):
    response = manager_client.get(reverse("survey_create"))
    assert response.status_code == 200
    html = response.content.decode()
    for code in ("en", "ru", "pl"):
        assert f'name="question_{code}"' in html and f'name="followup_{code}"' in html


def test_detail_of_an_empty_survey(manager_client):
    survey = f.survey(SurveyKind.CES)
    response = manager_client.get(reverse("survey_detail", args=[survey.pk]))
    assert response.status_code == 200
    assert response.context["summary"].count == 0
