"""Small builders for the answer-store tests: a workspace with channels, teams, people and surveys,
and answers placed at exact moments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count

from accounts.models import Team, User
from accounts.roles import Role
from accounts.services import do_create_user
from analytics.filters import DashboardFilters
from channels_app.models import Channel
from profiles.models import Customer
from surveys.models import Survey, SurveyKind, SurveyResponse
from tickets.models import Conversation

_serial = count(1)


def at(day: int, hour: int = 12, month: int = 3, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass
class World:
    sms: Channel
    mail: Channel
    red: Team
    blue: Team
    ann: User  # agent in red (red's channel: sms)
    bob: User  # agent in blue (no channel)
    manager: User
    nps: Survey
    csat5: Survey
    csat3: Survey
    ces: Survey
    customer: Customer


def world() -> World:
    n = next(_serial)
    sms = Channel.objects.create(kind="sms", name=f"SMS {n}")
    mail = Channel.objects.create(kind="email", name=f"Mail {n}")
    red = Team.objects.create(name=f"Red {n}")
    blue = Team.objects.create(name=f"Blue {n}")
    sms.teams.add(red)
    ann = do_create_user(username=f"ann{n}", password=None, role=Role.AGENT)
    bob = do_create_user(username=f"bob{n}", password=None, role=Role.AGENT)
    ann.teams.add(red)
    bob.teams.add(blue)
    manager = do_create_user(username=f"manager{n}", password=None, role=Role.MANAGER)
    return World(
        sms=sms,
        mail=mail,
        red=red,
        blue=blue,
        ann=ann,
        bob=bob,
        manager=manager,
        nps=Survey.objects.create(kind=SurveyKind.NPS, name="NPS"),
        csat5=Survey.objects.create(kind=SurveyKind.CSAT, name="CSAT 5", scale_max=5),
        csat3=Survey.objects.create(kind=SurveyKind.CSAT, name="CSAT 3", scale_max=3),
        ces=Survey.objects.create(kind=SurveyKind.CES, name="CES"),
        customer=Customer.objects.create(name="Anna"),
    )


def conversation(
    w: World,
    *,
    channel: Channel | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    customer: Customer | None = None,
    created_at: datetime | None = None,
) -> Conversation:
    moment = created_at or at(1)
    return Conversation.objects.create(
        customer=customer or w.customer,
        channel=channel or w.mail,
        team=team,
        assignee=assignee,
        created_at=moment,
        last_activity_at=moment,
    )


def answer(
    survey: Survey,
    score: int,
    when: datetime,
    *,
    conversation: Conversation | None = None,
    channel: Channel | None = None,
    agent: User | None = None,
    customer: Customer | None = None,
    comment: str = "",
    medium: str = "email",
    locale: str = "en",
) -> SurveyResponse:
    return SurveyResponse.objects.create(
        survey=survey,
        score=score,
        created_at=when,
        conversation=conversation,
        channel=channel,
        agent=agent,
        customer=customer if customer is not None else getattr(conversation, "customer", None),
        comment=comment,
        medium=medium,
        locale=locale,
    )


def filters(start: datetime, end: datetime, **extra) -> DashboardFilters:
    return DashboardFilters(start=start, end=end, **extra)


# ---- the oracle: cells recomputed in Python straight from the raw rows ---------------------------

CellKey = tuple[str, datetime, int, int | None, int | None, int | None, str, str]


def _period(moment: datetime, grain: str) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if grain in ("d", "m"):
        moment = moment.replace(hour=0)
    if grain == "m":
        moment = moment.replace(day=1)
    return moment


def expected_cells() -> dict[CellKey, tuple[int, ...]]:
    """Every cell of every grain as the raw answers say: 11 score counts and the comments count."""
    out: dict[CellKey, list[int]] = {}
    for r in SurveyResponse.objects.select_related("conversation"):
        c = r.conversation
        channel = c.channel_id if c else r.channel_id
        team = c.team_id if c else None
        agent = r.agent_id or (c.assignee_id if c else None)
        for grain in ("h", "d", "m"):
            key = (grain, _period(r.created_at, grain), r.survey_id, channel, team, agent, r.medium, r.locale)
            counts = out.setdefault(key, [0] * 12)
            counts[r.score] += 1
            counts[11] += bool(r.comment)
    return {key: tuple(counts) for key, counts in out.items()}


def stored_cells() -> dict[CellKey, tuple[int, ...]]:
    from analytics.answer_models import SCORE_COLUMNS, AnswerCell

    out: dict[CellKey, tuple[int, ...]] = {}
    for cell in AnswerCell.objects.all():
        key = (
            cell.grain,
            cell.period_start.astimezone(UTC),
            cell.survey_id,
            cell.channel_id,
            cell.team_id,
            cell.agent_id,
            cell.medium,
            cell.language,
        )
        assert key not in out, f"two cells for {key}"
        out[key] = (*(getattr(cell, column) for column in SCORE_COLUMNS), cell.comments)
    return out


def refresh_everything() -> None:
    """What the worker does after events: refresh every answer that exists or has a fact."""
    from analytics.answer_models import AnswerFact
    from analytics.answer_refresh import refresh_answers

    ids = set(SurveyResponse.objects.values_list("pk", flat=True))
    ids |= set(AnswerFact.objects.values_list("pk", flat=True))
    refresh_answers(ids)
