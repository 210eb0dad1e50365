"""Answers: validated, one per invitation even under a race, late ones refused, detractors followed up."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from profiles.models import TimelineEntry, TimelineKind
from surveys.answers import AnswerError, do_complete_answer, do_record_answer
from surveys.closed_loop import LoopError, do_close_loop
from surveys.invitation_models import FollowUp, FollowUpOutcome, InvitationStatus
from surveys.models import SurveyKind, SurveyResponse
from tickets.models import Conversation, ConversationStatus, Message, Priority

from . import factories as f

pytestmark = pytest.mark.django_db


def test_a_score_is_stored_with_its_attribution_and_on_the_timeline():
    person = f.customer()
    channel = f.sms_channel()
    invitation = f.invitation(f.survey(), person, channel=channel)
    response = do_record_answer(token=invitation.token, score="9", comment=" Quick help ")
    assert (response.score, response.comment, response.customer, response.channel) == (
        9,
        "Quick help",
        person,
        channel,
    )
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ANSWERED and invitation.answered_at is not None
    entry = TimelineEntry.objects.get(customer=person, kind=TimelineKind.SURVEY_ANSWER)
    assert entry.data == {"survey_kind": "nps", "score": 9}
    assert not FollowUp.objects.exists()  # a promoter needs no follow-up


@pytest.mark.parametrize(
    ("kind", "scale_max", "good", "bad"),
    [
        (SurveyKind.NPS, None, ["0", 10], ["11", "-1", "ten", "", None, True, "7.5"]),
        (SurveyKind.CSAT, None, [1, 5], [0, 6]),
        (SurveyKind.CSAT, 3, [1, 3], [4]),
        (SurveyKind.CES, None, [1, 7], [0, 8]),
    ],
)
def test_scores_outside_the_scale_are_refused(kind, scale_max, good, bad):
    survey = f.survey(kind, scale_max=scale_max)
    for value in bad:
        invitation = f.invitation(survey, None)
        with pytest.raises(AnswerError) as refused:
            do_record_answer(token=invitation.token, score=value)
        assert refused.value.code == AnswerError.INVALID
        invitation.refresh_from_db()
        assert invitation.status == InvitationStatus.SENT  # still answerable
    for value in good:
        assert do_record_answer(token=f.invitation(survey, None).token, score=value).score == int(value)


def test_second_answer_with_the_same_token_is_refused():
    invitation = f.invitation(f.survey(), f.customer())
    do_record_answer(token=invitation.token, score=8)
    with pytest.raises(AnswerError) as refused:
        do_record_answer(token=invitation.token, score=10)
    assert refused.value.code == AnswerError.ANSWERED
    assert list(SurveyResponse.objects.values_list("score", flat=True)) == [8]


def test_expired_unknown_and_throttled_tokens_are_refused():
    survey = f.survey()
    late = f.invitation(survey, None, sent_at=timezone.now() - timedelta(days=8))
    throttled = f.invitation(survey, None, status=InvitationStatus.THROTTLED)
    cases = [(late.token, AnswerError.EXPIRED), ("x" * 43, AnswerError.UNKNOWN), ("", AnswerError.UNKNOWN),
             (throttled.token, AnswerError.NOT_SENT)]  # fmt: skip
    for token, code in cases:
        with pytest.raises(AnswerError) as refused:
            do_record_answer(token=token, score=5)
        assert refused.value.code == code
    assert not SurveyResponse.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_racing_answers_with_one_token_store_exactly_one():
    invitation = f.invitation(f.survey(), f.customer())
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def answer(score: int) -> None:
        try:
            barrier.wait()
            do_record_answer(token=invitation.token, score=score)
            outcomes.append("stored")
        except AnswerError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["answered"] * 5 + ["stored"]
    assert SurveyResponse.objects.filter(invitation=invitation).count() == 1


def test_extra_answers_keep_only_known_questions_and_the_comment_completes_later():
    survey = f.survey(extra_questions=[{"id": "speed", "text": {"en": "Speed?"}}])
    invitation = f.invitation(survey, f.customer())
    response = do_record_answer(token=invitation.token, score=9)
    assert response.is_complete is False  # a one-click score is a partial answer, kept as such
    done = do_complete_answer(token=invitation.token, comment="Fast", answers={"speed": "great", "evil": "x"})
    assert (done.comment, done.answers, done.is_complete) == ("Fast", {"speed": "great"}, True)
    with pytest.raises(AnswerError):
        do_complete_answer(token=invitation.token, comment="again")


@pytest.mark.django_db(transaction=True)  # the closed loop reacts to SurveyAnswered after commit
@pytest.mark.parametrize(
    ("kind", "scale_max", "threshold", "score", "detractor"),
    [
        (SurveyKind.NPS, None, None, 6, True),
        (SurveyKind.NPS, None, None, 7, False),
        (SurveyKind.CSAT, None, None, 2, True),
        (SurveyKind.CSAT, None, None, 3, False),
        (SurveyKind.CSAT, 3, None, 1, True),
        (SurveyKind.CSAT, 3, None, 2, False),
        (SurveyKind.CES, None, None, 3, True),
        (SurveyKind.CES, None, None, 4, False),
        (SurveyKind.NPS, None, 4, 5, False),
    ],
)
def test_detractor_thresholds(kind, scale_max, threshold, score, detractor):
    survey = f.survey(kind, scale_max=scale_max, detractor_threshold=threshold)
    do_record_answer(token=f.invitation(survey, f.customer()).token, score=score)
    assert FollowUp.objects.exists() is detractor


@pytest.mark.django_db(transaction=True)  # the closed loop reacts to SurveyAnswered after commit
def test_detractor_opens_a_follow_up_conversation_quoting_the_answer(make_user):
    person = f.customer()
    channel = f.sms_channel()
    invitation = f.invitation(f.survey(), person, channel=channel, medium="sms")
    response = do_record_answer(token=invitation.token, score=3, comment="Parcel came late")
    follow_up = FollowUp.objects.get(response=response)
    conversation = follow_up.conversation
    assert (conversation.customer, conversation.channel, conversation.priority) == (
        person,
        channel,
        Priority.HIGH,
    )
    assert conversation.status == ConversationStatus.OPEN
    quoted = Message.objects.get(conversation=conversation)
    assert "3" in quoted.body and "Parcel came late" in quoted.body
    # Closing the loop records the outcome and resolves the conversation.
    agent = make_user("manager")
    do_close_loop(follow_up=follow_up, actor=agent, outcome=FollowUpOutcome.RESOLVED, note="Called, refunded")
    follow_up.refresh_from_db()
    assert follow_up.closed_at and follow_up.closed_by == agent and follow_up.outcome == "resolved"
    assert Conversation.objects.get(pk=conversation.pk).status == ConversationStatus.RESOLVED
    with pytest.raises(LoopError):
        do_close_loop(follow_up=follow_up, actor=agent, outcome=FollowUpOutcome.RESOLVED)


@pytest.mark.django_db(transaction=True)  # the closed loop reacts to SurveyAnswered after commit
def test_anonymous_detractor_has_nobody_to_follow_up():
    do_record_answer(token=f.invitation(f.survey(), None, medium="widget").token, score=0)
    assert not FollowUp.objects.exists() and not Conversation.objects.exists()
