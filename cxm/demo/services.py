"""Seed a believable demo workspace, once.

What counts as a demo row is in :mod:`cxm.demo.markers`. If any users, channels or customers are demo
rows, the workspace counts as seeded and :func:`do_seed_demo` changes nothing except, when a password
is given, the demo users' password. With ``reset=True`` it first deletes every demo row (and nothing
else), then seeds again. The whole operation is one transaction, so a failed run leaves no partial
demo behind.

The content is deterministic: fixed ``random.Random`` seeds drive every choice, so two seedings produce
the same people, texts and scores; timestamps are relative to the moment of seeding.

Demo users log in with :data:`cxm.demo.data.DEMO_PASSWORD`, except in production, where a password
everybody can read in the source would be an open door: there they get no usable password unless one
is given.
"""

from __future__ import annotations

import itertools
import random

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from accounts.models import Team
from accounts.roles import Role
from cxm.demo import archive, data
from cxm.demo.conversations import ConversationDraft, Pin, Staff, plan_conversations
from cxm.demo.feedback import ensure_detractors, plan_feedback
from cxm.demo.history import insert_history
from cxm.demo.journey import plan_journey, record_journeys
from cxm.demo.loops import SETTLED_DAYS, do_demo_loops
from cxm.demo.markers import (
    DemoDataError,
    demo_business_hours,
    demo_channels,
    demo_customers,
    demo_surveys,
    demo_teams,
    demo_users,
)
from cxm.demo.people import CustomerDraft, plan_customers
from cxm.demo.service_levels import replay_sla
from cxm.demo.staff import create_channels, create_staff, create_surveys, create_teams, set_password
from cxm.demo.workspace import (
    configure_surveys,
    create_canned,
    create_labels,
    create_service_levels,
    create_triggers,
)
from profiles import timeline
from profiles.models import CustomerEvent, Identity, TimelineEntry
from surveys.models import FollowUp, Invitation, SurveyResponse
from tickets.models import CannedResponse, Conversation, ConversationStatus, Message, Priority, SlaPolicy

SEED = 20240917
MIN_CUSTOMERS = 10  # enough for every channel, status, survey kind and SLA state to appear
_BATCH = 1000
# The first customers' latest conversations show every status and priority, then SLA at risk and
# breached: an urgent one answered 20.5 hours ago (resolution due within a day, so at risk) and an
# urgent one nobody has answered for three hours (first response due within 30 minutes).
PINS = [
    *(
        Pin(status, priority)
        for status, priority in zip(ConversationStatus.values, Priority.values, strict=True)
    ),
    Pin(ConversationStatus.PENDING, Priority.URGENT, age_hours=20.5, unanswered=False),
    Pin(ConversationStatus.OPEN, Priority.URGENT, age_hours=3, unanswered=True),
]

__all__ = ["MIN_CUSTOMERS", "DemoDataError", "demo_counts", "do_reset_demo_passwords", "do_seed_demo"]


def demo_counts() -> dict[str, int]:
    customers = demo_customers()
    surveys = demo_surveys()
    return {
        "users": demo_users().count(),
        "teams": demo_teams().count(),
        "channels": demo_channels().count(),
        "customers": customers.count(),
        "identities": Identity.objects.filter(customer__in=customers).count(),
        "conversations": Conversation.objects.filter(customer__in=customers).count(),
        "messages": Message.objects.filter(conversation__customer__in=customers).count(),
        "events": CustomerEvent.objects.filter(customer__in=customers).count(),
        "timeline": TimelineEntry.objects.filter(customer__in=customers).count(),
        "surveys": surveys.count(),
        "invitations": Invitation.objects.filter(survey__in=surveys).count(),
        "responses": SurveyResponse.objects.filter(survey__in=surveys).count(),
        "follow_ups": FollowUp.objects.filter(response__survey__in=surveys).count(),
        "sla_policies": SlaPolicy.objects.filter(channel__in=demo_channels()).count(),
        "canned": CannedResponse.objects.filter(team__in=demo_teams()).count(),
    }


def demo_present() -> bool:
    return demo_users().exists() or demo_channels().exists() or demo_customers().exists()


def demo_password_allowed() -> bool:
    return settings.CXM_ENV != "production"


@transaction.atomic
def do_reset_demo_passwords(*, password: str | None = None) -> int:
    """Give every demo user ``password`` (default: the documented demo password); nothing else changes.
    Returns how many users got it."""
    if not password and not demo_password_allowed():
        raise DemoDataError("In production the demo password is not used; give a password of your own.")
    users = list(demo_users())
    if users:
        set_password(users, password or data.DEMO_PASSWORD)
    return len(users)


@transaction.atomic
def do_delete_demo() -> None:
    customers = demo_customers()
    surveys = demo_surveys()
    # Explicit order keeps each delete a plain DELETE instead of Django collecting rows in memory.
    TimelineEntry.objects.filter(customer__in=customers).delete()
    FollowUp.objects.filter(Q(response__survey__in=surveys) | Q(response__customer__in=customers)).delete()
    SurveyResponse.objects.filter(Q(survey__in=surveys) | Q(customer__in=customers)).delete()
    Invitation.objects.filter(Q(survey__in=surveys) | Q(customer__in=customers)).delete()
    surveys.delete()
    CustomerEvent.objects.filter(customer__in=customers).delete()
    Message.objects.filter(conversation__customer__in=customers).delete()
    Conversation.objects.filter(customer__in=customers).delete()
    Identity.objects.filter(customer__in=customers).delete()
    customers.delete()
    SlaPolicy.objects.filter(channel__in=demo_channels()).delete()
    try:
        demo_channels().delete()
    except ProtectedError as exc:
        raise DemoDataError(
            "Demo channels carry conversations of real customers; move or delete those first."
        ) from exc
    demo_business_hours().delete()
    # Teams are recognised by their members, so they go before the users.
    Team.objects.filter(pk__in=list(demo_teams().values_list("pk", flat=True))).delete()
    demo_users().delete()


@transaction.atomic
def do_seed_demo(
    *, customers: int = 300, password: str | None = None, reset: bool = False, history_years: bool = True
) -> dict[str, int]:
    """Create the demo workspace unless it exists; returns demo row counts plus ``created`` (0 or 1).

    ``history_years=False`` leaves out the two years before the recent weeks (cxm.demo.archive)."""
    if customers < MIN_CUSTOMERS:
        raise ValueError(f"the demo needs at least {MIN_CUSTOMERS} customers")
    if reset:
        do_delete_demo()
    elif demo_present():
        if password:
            set_password(list(demo_users()), password)
        return {**demo_counts(), "created": 0}

    rng = random.Random(SEED)
    now = timezone.now().replace(microsecond=0)
    if not password and demo_password_allowed():
        password = data.DEMO_PASSWORD
    users = create_staff(now=now, password=password)
    slow_agent = data.USERNAME_PREFIX + archive.SLOW_AGENT
    teams = create_teams(users=users, now=now)
    channels = create_channels(rng, teams=teams, now=now)
    manager = next(u for u in users if u.role == Role.MANAGER)
    surveys = create_surveys(owner=manager, now=now)
    configure_surveys(surveys=surveys)
    labels = create_labels(actor=manager)
    create_canned(teams=teams)
    create_service_levels(channels=channels, now=now)
    agents_by_team = {
        name: [
            u
            for u, spec in zip(users, data.STAFF, strict=True)
            if name in spec.teams and u.role == Role.AGENT
        ]
        for name in data.TEAM_NAMES
    }
    speed = {u.pk: rng.uniform(0.6, 1.7) for u in users}
    speed.update({u.pk: archive.SLOW_AGENT_SPEED for u in users if u.username == slow_agent})
    incident = archive.incident_week(now, channels[archive.INCIDENT_CHANNEL])
    staff = Staff(
        teams=teams,
        agents_by_team=agents_by_team,
        speed=speed,
        pace=archive.Pace(now, incident),
        incident=incident.covers,
    )

    message_ids = itertools.count(1)
    history: list[tuple[CustomerDraft, list[ConversationDraft]]] = []
    for draft in plan_customers(rng, count=customers):
        pin = PINS[draft.index] if draft.index < len(PINS) else None
        planned = plan_conversations(
            rng, draft=draft, now=now, channels=channels, staff=staff, message_ids=message_ids, forced=pin
        )
        history.append((draft, planned))
    archive.plan_archive(
        random.Random(SEED + 3),
        history=history,
        now=now,
        channels=channels,
        staff=staff,
        incident=incident,
        message_ids=message_ids,
        per_customer=archive.PER_CUSTOMER if history_years else 0,
    )
    # Their own generators, so adding to the journey or the surveys leaves the conversations as they are.
    events_rng, survey_rng = random.Random(SEED + 1), random.Random(SEED + 2)
    journeys = [(d, plan_journey(events_rng, draft=d, conversations=convs, now=now)) for d, convs in history]

    identities = insert_history(history, labels=labels)
    by_customer: dict[int, list[Identity]] = {}
    for identity in identities:
        by_customer.setdefault(identity.customer_id, []).append(identity)
    # Events name their customer the way the shop's systems would: by its strongest stored identity.
    named = {d.index: (by_customer[d.customer.pk][0].kind, by_customer[d.customer.pk][0].value)
             for d, _ in history if d.customer.pk in by_customer}  # fmt: skip
    record_journeys(journeys, identities=named)
    replay_sla([(c.conversation, c.messages) for _, convs in history for c in convs])

    triggers = create_triggers(surveys=surveys, channels=channels)
    feedback = plan_feedback(
        survey_rng,
        history=[(d, convs, events) for (d, convs), (_, events) in zip(history, journeys, strict=True)],
        surveys=surveys,
        triggers=triggers,
        channels=channels,
        identities=by_customer,
        now=now,
    )
    ensure_detractors(survey_rng, feedback.responses, now=now, settled_days=SETTLED_DAYS)
    Invitation.objects.bulk_create(feedback.invitations, batch_size=_BATCH)
    SurveyResponse.objects.bulk_create(feedback.responses, batch_size=_BATCH)
    for response in feedback.responses:
        timeline.record_survey_answer(response)
    loops = do_demo_loops(
        survey_rng,
        responses=feedback.responses,
        teams=teams,
        agents_by_team=agents_by_team,
        first_names={d.customer.pk: d.first_name for d, _ in history},
        now=now,
    )
    replay_sla([(loop.conversation, loop.messages) for loop in loops])
    return {**demo_counts(), "created": 1}
