"""The demo's two years of history: a growing shop, a bad week on WhatsApp, a slow agent, detractors who
say what went wrong, answers tied to conversations and agents, and dashboards filled right after."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Min
from django.utils import timezone

from analytics.models import ConversationFact
from channels_app.kinds import ChannelKind
from cxm.demo import archive, data
from cxm.demo.markers import demo_channels, demo_customers
from cxm.demo.services import do_seed_demo
from surveys.models import SurveyResponse
from tickets.models import Conversation

pytestmark = pytest.mark.django_db

CUSTOMERS = 40
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def seed_seconds() -> dict[str, float]:
    return {}


@pytest.fixture
def seeded(seed_seconds):
    started = time.monotonic()
    counts = do_seed_demo(customers=CUSTOMERS)
    seed_seconds["last"] = time.monotonic() - started
    return counts


def _conversations():
    # Detractor follow-ups are opened by the closed loop, not by customers writing in.
    return Conversation.objects.filter(customer__in=demo_customers(), survey_follow_ups=None)


def _first_response_seconds(qs) -> list[float]:
    return [
        (answered - created).total_seconds()
        for created, answered in qs.exclude(first_response_at=None).values_list(
            "created_at", "first_response_at"
        )
    ]


def test_history_spans_two_years_and_grows(seeded, seed_seconds):
    now = timezone.now()
    conversations = _conversations()
    oldest = conversations.aggregate(oldest=Min("created_at"))["oldest"]
    assert now - 731 * DAY < oldest < now - 700 * DAY
    # Every quarter of the two years has conversations and answers to them.
    for quarter in range(8):
        start, end = now - (quarter + 1) * 91 * DAY, now - quarter * 91 * DAY
        assert conversations.filter(created_at__gte=start, created_at__lt=end).exists(), quarter
        answers = SurveyResponse.objects.filter(customer__in=demo_customers(), created_at__gte=start)
        assert answers.filter(created_at__lt=end).exists(), quarter
    last_year = conversations.filter(created_at__gte=now - 365 * DAY).count()
    year_before = conversations.filter(created_at__lt=now - 365 * DAY).count()
    assert last_year > 1.5 * year_before  # a growing shop
    # The team got faster: first responses a year ago and more took longer than in the last 90 days
    # (the bad week aside).
    whatsapp = demo_channels().get(kind=ChannelKind.WHATSAPP)
    incident = archive.incident_week(now, whatsapp)
    usual = conversations.exclude(
        channel=whatsapp, created_at__gte=incident.start, created_at__lt=incident.end
    )
    recent = statistics.median(_first_response_seconds(usual.filter(created_at__gte=now - 90 * DAY)))
    old = statistics.median(_first_response_seconds(conversations.filter(created_at__lt=now - 365 * DAY)))
    assert old > 1.2 * recent
    # Answers name their conversation and its agent.
    linked = SurveyResponse.objects.filter(customer__in=demo_customers()).exclude(conversation=None)
    assert linked.filter(created_at__lt=now - 365 * DAY).exists()
    assert not linked.exclude(agent_id=F("conversation__assignee_id")).exists()
    assert seed_seconds["last"] < 60


def test_the_bad_week_on_whatsapp_shows_in_the_raw_rows(seeded):
    whatsapp = demo_channels().get(kind=ChannelKind.WHATSAPP)
    incident = archive.incident_week(timezone.now(), whatsapp)
    on_whatsapp = _conversations().filter(channel=whatsapp)
    during = on_whatsapp.filter(created_at__gte=incident.start, created_at__lt=incident.end)
    # The twelve weeks before it, for comparison.
    before = on_whatsapp.filter(created_at__gte=incident.start - 12 * 7 * DAY, created_at__lt=incident.start)
    assert during.count() >= 2 * max(1, before.count() / 12)
    slow, usual = _first_response_seconds(during), _first_response_seconds(before)
    assert statistics.median(slow) > 3 * statistics.median(usual)
    # What the customers of that week wrote, in their own language, names the problem.
    incident_comments = {line for lines in data.INCIDENT_COMMENTS.values() for line in lines}
    said = set(SurveyResponse.objects.filter(conversation__in=during).values_list("comment", flat=True))
    assert said & incident_comments
    assert (
        not SurveyResponse.objects.exclude(conversation__in=during)
        .filter(comment__in=incident_comments)
        .exists()
    )


def test_one_agent_answers_much_slower_than_the_others(seeded):
    by_agent: dict[str, list[float]] = {}
    rows = _conversations().exclude(first_response_at=None).exclude(assignee=None)
    for username, created, answered in rows.values_list(
        "assignee__username", "created_at", "first_response_at"
    ):
        by_agent.setdefault(username, []).append((answered - created).total_seconds())
    medians = {name: statistics.median(times) for name, times in by_agent.items() if len(times) >= 5}
    slow = data.USERNAME_PREFIX + archive.SLOW_AGENT
    others = [median for name, median in medians.items() if name != slow]
    assert medians[slow] > 2 * statistics.median(others)
    assert medians[slow] == max(medians.values())


def test_detractors_name_real_problems_in_three_languages(seeded):
    commented = SurveyResponse.objects.filter(customer__in=demo_customers()).exclude(comment="")
    negative = [line for pools in data.SURVEY_COMMENTS.values() for line in pools["negative"]]
    incident = [line for lines in data.INCIDENT_COMMENTS.values() for line in lines]
    complaints = commented.filter(comment__in=negative + incident)
    per_locale = dict(complaints.values_list("locale").annotate(n=Count("pk")).values_list("locale", "n"))
    assert set(per_locale) == {"en", "pl", "ru"}, per_locale
    # A complaint goes with an unhappy score (below the neutral band of its scale), in its own language.
    unhappy_below = {"nps": 7, "csat": 3, "ces": 4}
    for kind, score, comment, locale in commented.filter(comment__in=negative).values_list(
        "survey__kind", "score", "comment", "locale"
    ):
        assert score < unhappy_below[kind], (kind, score, comment)
        assert comment in data.SURVEY_COMMENTS[locale]["negative"]


def test_the_seed_command_fills_the_reporting_store():
    out = StringIO()
    call_command("seed_demo", customers=12, stdout=out)
    assert "Reporting store rebuilt" in out.getvalue()
    conversations = Conversation.objects.filter(customer__in=demo_customers())
    assert ConversationFact.objects.count() == conversations.count() > 12 * 5
    assert set(ConversationFact.objects.values_list("pk", flat=True)) == set(
        conversations.values_list("pk", flat=True)
    )
