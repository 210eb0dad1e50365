"""Where a follow-up conversation lives when the answer names no channel."""

from __future__ import annotations

import pytest

from surveys.closed_loop import FOLLOW_UP_CHANNEL_NAME, follow_up_channel
from surveys.models import SurveyResponse

from . import factories as f

pytestmark = pytest.mark.django_db


def _answer(person) -> SurveyResponse:
    # A widget answer: no channel and no conversation to follow up in.
    return SurveyResponse(survey=f.survey(), customer=person, score=0, medium="widget")


def test_a_customer_is_reached_on_an_active_channel_of_a_kind_they_have_an_identity_for():
    sms = f.sms_channel()
    assert follow_up_channel(_answer(f.customer(phone="+48601234567"))) == sms


def test_an_anonymous_answer_goes_to_the_inactive_follow_up_channel_even_beside_reachable_ones():
    f.sms_channel()
    f.customer(phone="+48601234567")  # someone else's phone: an anonymous answer is nobody's
    channel = follow_up_channel(_answer(None))
    assert (channel.kind, channel.name, channel.is_active) == ("api", FOLLOW_UP_CHANNEL_NAME, False)
