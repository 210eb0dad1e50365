"""Fatigue rules across surveys and channels, with a fixed clock in several time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from surveys import fatigue
from surveys.consent import do_record_survey_consent
from surveys.invitation_models import Invitation, InvitationStatus, Medium, TriggerKind
from surveys.invitations import do_invite
from surveys.models import SurveyKind

from . import factories as f

pytestmark = pytest.mark.django_db
NOON_UTC = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def invite(survey, person, now, medium=Medium.EMAIL):
    return do_invite(survey=survey, customer=person, medium=medium, trigger=TriggerKind.MANUAL, now=now)


@override_settings(SURVEY_MIN_INTERVAL_DAYS=14)
def test_global_interval_applies_across_surveys():
    person = f.customer()
    nps, csat = f.survey(), f.survey(SurveyKind.CSAT)
    first = invite(nps, person, NOON_UTC)
    assert first.status == InvitationStatus.PENDING and first.reason == ""
    blocked = invite(csat, person, NOON_UTC + timedelta(days=13))
    assert blocked.status == InvitationStatus.THROTTLED and "14 days" in blocked.reason
    allowed = invite(csat, person, NOON_UTC + timedelta(days=15))
    assert allowed.status == InvitationStatus.PENDING


@override_settings(SURVEY_MIN_INTERVAL_DAYS=0)
def test_per_survey_recontact_days():
    person = f.customer()
    survey = f.survey(recontact_days=30)
    invite(survey, person, NOON_UTC)
    assert "30 days" in invite(survey, person, NOON_UTC + timedelta(days=29)).reason
    assert invite(survey, person, NOON_UTC + timedelta(days=31)).reason == ""


@override_settings(SURVEY_MIN_INTERVAL_DAYS=0)
def test_throttled_invitations_do_not_count_as_asked():
    person = f.customer()
    survey = f.survey(recontact_days=30)
    Invitation.objects.all().delete()
    do_record_survey_consent(customer=person, opted_out=True, source="test")
    person.refresh_from_db()
    assert invite(survey, person, NOON_UTC).status == InvitationStatus.THROTTLED
    do_record_survey_consent(customer=person, opted_out=False, source="test")
    person.refresh_from_db()
    assert invite(survey, person, NOON_UTC + timedelta(days=1)).status == InvitationStatus.PENDING


def test_opt_out_is_honoured_and_stops_pending_invitations():
    person = f.customer()
    pending = invite(f.survey(), person, NOON_UTC)
    do_record_survey_consent(customer=person, opted_out=True, source="email link")
    pending.refresh_from_db()
    assert pending.status == InvitationStatus.THROTTLED
    person.refresh_from_db()
    assert person.consent["surveys"]["status"] == "opted_out"
    assert "opted out" in invite(f.survey(SurveyKind.CES), person, NOON_UTC + timedelta(days=60)).reason


def test_sampling_is_stable_per_person_and_close_to_the_percentage():
    survey = f.survey(sampling_percent=30)
    chosen = [fatigue.in_sample(survey, str(n)) for n in range(2000)]
    assert 0.26 < sum(chosen) / len(chosen) < 0.34
    assert chosen == [fatigue.in_sample(survey, str(n)) for n in range(2000)]


def test_inactive_or_out_of_period_surveys_send_nothing():
    person = f.customer()
    assert "not active" in invite(f.survey(is_active=False), person, NOON_UTC).reason
    later = f.survey(starts_at=NOON_UTC + timedelta(days=1))
    assert "not active" in invite(later, person, NOON_UTC).reason
    ended = f.survey(ends_at=NOON_UTC)
    assert "not active" in invite(ended, person, NOON_UTC).reason


@override_settings(SURVEY_QUIET_HOURS=(21, 9), SURVEY_MIN_INTERVAL_DAYS=0)
@pytest.mark.parametrize(
    ("zone", "now", "expected_send_at"),
    [
        # 12:00 UTC is 13:00 in Warsaw: not quiet, sent now.
        ("Europe/Warsaw", NOON_UTC, NOON_UTC),
        # 12:00 UTC is 23:00 in Vladivostok (UTC+10, +1 h past 22): wait until 09:00 there = 23:00 UTC.
        ("Asia/Vladivostok", NOON_UTC, datetime(2026, 3, 10, 23, 0, tzinfo=UTC)),
        # 02:00 UTC is 05:00 in Moscow: wait until 09:00 Moscow = 06:00 UTC the same day.
        ("Europe/Moscow", NOON_UTC.replace(hour=2), datetime(2026, 3, 10, 6, 0, tzinfo=UTC)),
        # 20:30 UTC is 21:30 in Warsaw (CET): quiet until 09:00 CET the next day = 08:00 UTC.
        ("Europe/Warsaw", NOON_UTC.replace(hour=20, minute=30), datetime(2026, 3, 11, 8, 0, tzinfo=UTC)),
        # No time zone on the profile: the install's (UTC in tests); 20:59 is not yet quiet.
        ("", NOON_UTC.replace(hour=20, minute=59), NOON_UTC.replace(hour=20, minute=59)),
    ],
)
def test_quiet_hours_delay_pushed_invitations_in_the_customers_zone(zone, now, expected_send_at):
    person = f.customer(timezone=zone)
    invitation = invite(f.survey(), person, now)
    assert invitation.status == InvitationStatus.PENDING
    assert invitation.send_at == expected_send_at
    assert invitation.expires_at == expected_send_at + timedelta(days=14)


@override_settings(SURVEY_QUIET_HOURS=(21, 9))
def test_widget_and_link_are_not_delayed_by_quiet_hours():
    person = f.customer(timezone="Asia/Vladivostok")
    invitation = invite(f.survey(), person, NOON_UTC, medium=Medium.WIDGET)
    assert invitation.status == InvitationStatus.SENT and invitation.sent_at == NOON_UTC
