"""The weekly digest: opt-in setting, Monday-morning timing per time zone, once per week, content
(headlines against the week before with significance, weakest touchpoint, open loops), language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.roles import Role
from accounts.services import do_create_user
from analytics.answer_refresh import refresh_answers
from analytics.digest_models import DigestSubscription
from analytics.digest_schedule import due_week, reported_week
from analytics.digest_services import do_send_due_digests
from analytics.refresh import do_refresh
from surveys.models import FollowUp, Survey, SurveyKind, SurveyResponse
from tests.analytics.reporting_builders import conversation, inbound, shop, utc

pytestmark = pytest.mark.django_db

WARSAW = ZoneInfo("Europe/Warsaw")
# Monday 9 March 2026, 07:30 in Warsaw (UTC+1): the digest reports on 2–8 March.
MONDAY_MORNING = datetime(2026, 3, 9, 7, 30, tzinfo=WARSAW)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("now", "zone", "last", "due"),
    [
        (datetime(2026, 3, 9, 6, 59, tzinfo=WARSAW), "Europe/Warsaw", None, None),  # too early
        (datetime(2026, 3, 9, 7, 0, tzinfo=WARSAW), "Europe/Warsaw", None, date(2026, 3, 9)),
        (datetime(2026, 3, 9, 23, 59, tzinfo=WARSAW), "Europe/Warsaw", date(2026, 3, 2), date(2026, 3, 9)),
        (datetime(2026, 3, 9, 7, 0, tzinfo=WARSAW), "Europe/Warsaw", date(2026, 3, 9), None),  # sent already
        (datetime(2026, 3, 10, 8, 0, tzinfo=WARSAW), "Europe/Warsaw", None, None),  # Tuesday: skipped
        # 07:00 Monday in Warsaw is still Sunday 22:00 in Los Angeles.
        (datetime(2026, 3, 9, 7, 0, tzinfo=WARSAW), "America/Los_Angeles", None, None),
        (datetime(2026, 3, 9, 15, 0, tzinfo=UTC), "America/Los_Angeles", None, date(2026, 3, 9)),
        # An unknown zone counts as UTC.
        (datetime(2026, 3, 9, 7, 0, tzinfo=UTC), "Not/AZone", None, date(2026, 3, 9)),
    ],
)
def test_a_digest_is_due_on_monday_morning_in_the_subscribers_zone(now, zone, last, due):
    assert due_week(now, time_zone=zone, last_week=last) == due


def test_the_reported_week_is_monday_to_monday_local():
    start, end = reported_week(date(2026, 3, 30), "Europe/Warsaw")  # the week DST began (29 March)
    assert start == datetime(2026, 3, 23, tzinfo=WARSAW) and end == datetime(2026, 3, 30, tzinfo=WARSAW)
    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 167 * 3600  # an hour short


def test_the_setting_is_on_the_users_own_account_page(make_user):
    manager = make_user(Role.MANAGER)
    page = client_for(manager).get(reverse("security_settings")).content.decode()
    assert 'data-testid="digest-settings-slot"' in page and reverse("digest_settings") in page
    card = client_for(manager).get(reverse("digest_settings"))
    assert card.status_code == 200 and 'data-testid="digest-enabled"' in card.content.decode()
    assert "checked" not in card.content.decode().split('data-testid="digest-enabled"')[0].rsplit("<", 1)[1]

    saved = client_for(manager).post(
        reverse("digest_settings"), {"enabled": "1", "time_zone": "Europe/Warsaw"}, HTTP_HX_REQUEST="true"
    )
    assert saved.status_code == 200 and 'data-testid="digest-status"' in saved.content.decode()
    subscription = DigestSubscription.objects.get(user=manager)
    assert subscription.enabled and subscription.time_zone == "Europe/Warsaw"

    wrong = client_for(manager).post(
        reverse("digest_settings"), {"enabled": "1", "time_zone": "Mars/Olympus"}
    )
    assert wrong.status_code == 400
    off = client_for(manager).post(reverse("digest_settings"), {"time_zone": "Europe/Warsaw"})
    assert off.status_code == 302 and off.url == reverse("security_settings")
    assert not DigestSubscription.objects.get(user=manager).enabled

    agent = make_user(Role.AGENT)
    assert "digest-settings-slot" not in client_for(agent).get(reverse("security_settings")).content.decode()
    assert client_for(agent).get(reverse("digest_settings")).status_code == 403


def _csat(survey, channel, good: int, bad: int, at: datetime) -> list[SurveyResponse]:
    return [
        SurveyResponse.objects.create(
            survey=survey, channel=channel, score=5 if n < good else 1, created_at=at
        )
        for n in range(good + bad)
    ]


@pytest.fixture
def week():
    s = shop()
    # The third one is 8 March 23:30 UTC, already 9 March in Warsaw: not in the week.
    for moment in ("2026-03-02 10:00", "2026-03-04 10:00", "2026-03-08 23:30"):
        conv = conversation(s.sms, utc(moment))
        inbound(conv, conv.created_at)
    before = conversation(s.mail, utc("2026-02-25 10:00"))
    inbound(before, before.created_at)
    do_refresh(s.sms.conversations.values_list("pk", flat=True))
    do_refresh([before.pk])
    survey = Survey.objects.create(kind=SurveyKind.CSAT, name="CSAT", scale_max=5)
    answers = (
        _csat(survey, s.sms, 20, 40, utc("2026-03-03 12:00"))  # 33 %: the weakest touchpoint
        + _csat(survey, s.mail, 50, 10, utc("2026-03-05 12:00"))
        + _csat(survey, s.mail, 57, 3, utc("2026-02-26 12:00"))  # the week before: 95 %
    )
    FollowUp.objects.create(response=answers[30])  # a detractor of the week, still open
    FollowUp.objects.filter(response=answers[30]).update(opened_at=utc("2026-03-05 10:00"))
    refresh_answers([a.pk for a in answers])
    s.manager.email, s.manager.language = "sarah@acme.example", "pl"
    s.manager.save(update_fields=["email", "language"])
    DigestSubscription.objects.create(user=s.manager, enabled=True, time_zone="Europe/Warsaw")
    return s


def test_the_digest_reports_last_week_against_the_week_before(week, settings):
    settings.PUBLIC_BASE_URL, settings.PUBLIC_BASE_URL_EXPLICIT = "https://cx.example.com", True
    # Others: opted out, or opted in without the dashboards permission.
    quiet = do_create_user(username="quiet", password=None, role=Role.MANAGER, email="quiet@acme.example")
    DigestSubscription.objects.create(user=quiet, enabled=False, time_zone="Europe/Warsaw")
    agent = do_create_user(username="agent", password=None, role=Role.AGENT, email="agent@acme.example")
    DigestSubscription.objects.create(user=agent, enabled=True, time_zone="Europe/Warsaw")

    assert do_send_due_digests(now=MONDAY_MORNING) == 1

    [message] = mail.outbox
    assert message.to == ["sarah@acme.example"]
    text = message.body
    with translation.override("pl"):  # the user's language, whatever the catalog holds today
        week_before, worse = _("week before"), _("worse")
        created = _("New conversations")
        significant_title, weakest = _("Significant changes"), _("Weakest touchpoint")
        good_of = ngettext(
            "%(share)s good answers of %(answers)s", "%(share)s good answers of %(answers)s", 60
        )
        still_open = ngettext(
            "%(counter)s detractor follow-up is still open",
            "%(counter)s detractor follow-ups are still open",
            1,
        ) % {"counter": 1}
        oldest = ngettext("the oldest for %(days)s day", "the oldest for %(days)s days", 3) % {"days": 3}
    # Polish dates: Monday 2 March to Sunday 8 March.
    assert "Poniedziałek, 2 marca – Niedziela, 8 marca 2026" in text and "2026" in message.subject
    assert f"{created}: 2 ({week_before}: 1, +1 (+100 %))" in text
    # CSAT fell from 57 of 60 to 70 of 120 satisfied: a significant change, for the worse.
    html, kind = message.alternatives[0]
    assert kind == "text/html"
    # CSAT fell from 57 of 60 to 70 of 120 satisfied: a significant change, for the worse.
    csat_row = re.search(r'<tr data-key="csat">(.*?)</tr>', html, re.S).group(1)
    csat = re.search(r">([^<>]+)</a>", csat_row).group(1)  # the overview's own label
    assert ">58 %</td>" in csat_row and ">95 %</td>" in csat_row and "color:#cf222e" in csat_row
    assert f"{csat}: 58 % ({week_before}: 95 %" in text
    significant = text.split(f"{significant_title}:")[1].split("\n\n")[0]
    assert significant.strip().splitlines() == [f"- {csat}: -36.7 ({worse})"]
    # 20 of 60 good on SMS: 33 %, Wilson 95 % interval 22.7–45.9 % (computed by hand).
    share = "33 % (23\u201346 %)"
    assert f"{weakest}: {week.sms.name}, " + good_of % {"share": share, "answers": 60} in text
    assert f"{still_open} ({oldest})" in text
    html, kind = message.alternatives[0]
    assert kind == "text/html"
    assert (
        'href="https://cx.example.com/dashboards/?from=2026-03-02&amp;to=2026-03-08&amp;tz=Europe%2FWarsaw"'
        in html
    )
    assert 'lang="pl"' in html and 'data-key="csat"' in html

    # Once per week: a later run that Monday sends nothing.
    assert do_send_due_digests(now=MONDAY_MORNING.replace(hour=11)) == 0
    assert len(mail.outbox) == 1
    assert DigestSubscription.objects.get(user=week.manager).last_week == date(2026, 3, 9)


def test_a_failed_send_is_tried_again_on_the_next_run(week, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2  # nothing listens
    assert do_send_due_digests(now=MONDAY_MORNING) == 0
    assert DigestSubscription.objects.get(user=week.manager).last_week is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert do_send_due_digests(now=MONDAY_MORNING.replace(hour=8)) == 1
    assert len(mail.outbox) == 1
