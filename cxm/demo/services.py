"""Seed a believable demo workspace, once.

Idempotency: demo rows carry a marker, so they are found again without a registry table.

- users: the username starts with ``demo.``;
- channels: ``config["demo"] is True``;
- customers: ``attributes["demo"] is True``; their identities, conversations and messages hang off them;
- surveys: owned by a demo user;
- teams: named as in :mod:`cxm.demo.data` and with demo users as their only members.

Names never collide with the workspace's own data: when a real team, channel or survey already has a
demo name, the demo row is called ``"<name> (demo)"`` instead. Identities that a real customer already
owns are left out rather than taken over.

If any users, channels or customers are marked as demo rows, the workspace counts as seeded and
:func:`do_seed_demo` changes nothing except, when a password is given, the demo users' password. With
``reset=True`` it first deletes every demo row (and nothing else), then seeds again. The whole
operation is one transaction, so a failed run leaves no partial demo behind.

The content is deterministic: one ``random.Random`` with a fixed seed drives every choice, so two
seedings produce the same people, texts and scores; timestamps are relative to the moment of seeding.
"""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import ProtectedError, Q, QuerySet
from django.utils import timezone

from accounts.models import Team, User
from accounts.roles import Role
from accounts.services import do_create_team, do_create_user
from channels_app.kinds import CREDENTIAL_FIELDS
from channels_app.models import Channel
from channels_app.services import do_create_channel
from cxm.demo import data
from cxm.demo.conversations import ConversationDraft, Staff, plan_conversations
from cxm.demo.feedback import plan_responses
from cxm.demo.people import CustomerDraft, plan_customers
from profiles.models import Customer, Identity
from surveys.models import Survey, SurveyResponse
from tickets.models import Conversation, ConversationStatus, Message, Priority

SEED = 20240917
MIN_CUSTOMERS = 10  # enough for every channel, status and survey kind to appear
DEMO_SUFFIX = " (demo)"
_BATCH = 1000


class DemoDataError(Exception):
    """The demo cannot be seeded or removed without touching data that is not demo data."""


def demo_users() -> QuerySet[User]:
    return User.objects.filter(username__startswith=data.USERNAME_PREFIX)


def demo_customers() -> QuerySet[Customer]:
    return Customer.objects.filter(attributes__demo=True)


def demo_surveys() -> QuerySet[Survey]:
    return Survey.objects.filter(owner__in=demo_users())


def demo_teams() -> QuerySet[Team]:
    names = data.TEAM_NAMES + [n + DEMO_SUFFIX for n in data.TEAM_NAMES]
    real_users = User.objects.exclude(username__startswith=data.USERNAME_PREFIX)
    return (
        Team.objects.filter(name__in=names, members__in=demo_users())
        .exclude(members__in=real_users)
        .distinct()
    )


def demo_counts() -> dict[str, int]:
    customers = demo_customers()
    surveys = demo_surveys()
    return {
        "users": demo_users().count(),
        "teams": demo_teams().count(),
        "channels": Channel.objects.filter(config__demo=True).count(),
        "customers": customers.count(),
        "identities": Identity.objects.filter(customer__in=customers).count(),
        "conversations": Conversation.objects.filter(customer__in=customers).count(),
        "messages": Message.objects.filter(conversation__customer__in=customers).count(),
        "surveys": surveys.count(),
        "responses": SurveyResponse.objects.filter(survey__in=surveys).count(),
    }


def demo_present() -> bool:
    return (
        demo_users().exists()
        or Channel.objects.filter(config__demo=True).exists()
        or demo_customers().exists()
    )


def _free_name(name: str, taken: set[str]) -> str:
    for candidate in (name, name + DEMO_SUFFIX):
        if candidate not in taken:
            return candidate
    raise DemoDataError(f"Not seeding: both {name!r} and {name + DEMO_SUFFIX!r} are taken by other data.")


@transaction.atomic
def do_delete_demo() -> None:
    customers = demo_customers()
    SurveyResponse.objects.filter(Q(survey__in=demo_surveys()) | Q(customer__in=customers)).delete()
    demo_surveys().delete()
    # Explicit order keeps each delete a plain DELETE instead of Django collecting rows in memory.
    Message.objects.filter(conversation__customer__in=customers).delete()
    Conversation.objects.filter(customer__in=customers).delete()
    Identity.objects.filter(customer__in=customers).delete()
    customers.delete()
    try:
        Channel.objects.filter(config__demo=True).delete()
    except ProtectedError as exc:
        raise DemoDataError(
            "Demo channels carry conversations of real customers; move or delete those first."
        ) from exc
    # Teams are recognised by their members, so they go before the users.
    Team.objects.filter(pk__in=list(demo_teams().values_list("pk", flat=True))).delete()
    demo_users().delete()


@transaction.atomic
def do_seed_demo(*, customers: int = 300, password: str | None = None, reset: bool = False) -> dict[str, int]:
    """Create the demo workspace unless it exists; returns demo row counts plus ``created`` (0 or 1)."""
    if customers < MIN_CUSTOMERS:
        raise ValueError(f"the demo needs at least {MIN_CUSTOMERS} customers")
    if reset:
        do_delete_demo()
    elif demo_present():
        if password:
            _set_password(list(demo_users()), password)
        return {**demo_counts(), "created": 0}

    rng = random.Random(SEED)
    now = timezone.now().replace(microsecond=0)
    users = _create_staff(now=now, password=password)
    teams = _create_teams(users=users, now=now)
    channels = _create_channels(rng, teams=teams, now=now)
    surveys = _create_surveys(owner=next(u for u in users if u.role == Role.MANAGER), now=now)
    staff = Staff(
        teams=teams,
        agents_by_team={
            name: [
                u
                for u, spec in zip(users, data.STAFF, strict=True)
                if name in spec.teams and u.role == Role.AGENT
            ]
            for name in data.TEAM_NAMES
        },
        speed={u.pk: rng.uniform(0.6, 1.7) for u in users},
    )

    drafts = plan_customers(rng, count=customers)
    # The first customers' latest conversations show every status and priority.
    forced = list(zip([*ConversationStatus.values], [*Priority.values], strict=True))
    message_ids = itertools.count(1)
    history: list[tuple[CustomerDraft, list[ConversationDraft]]] = []
    for draft in drafts:
        pinned = forced[draft.index] if draft.index < len(forced) else None
        history.append(
            (
                draft,
                plan_conversations(
                    rng,
                    draft=draft,
                    now=now,
                    channels=channels,
                    staff=staff,
                    message_ids=message_ids,
                    forced=pinned,
                ),
            )
        )
    responses = plan_responses(rng, customers=history, surveys=surveys, channels=channels, now=now)
    _insert(history, responses)
    return {**demo_counts(), "created": 1}


def _insert(
    history: list[tuple[CustomerDraft, list[ConversationDraft]]], responses: list[SurveyResponse]
) -> None:
    drafts = [draft for draft, _ in history]
    customers = [d.customer for d in drafts]
    Customer.objects.bulk_create(customers, batch_size=_BATCH)
    # ``created_at`` is auto_now_add, which bulk_create overwrites; backdate it afterwards.
    for d in drafts:
        assert d.created_at is not None
        d.customer.created_at = d.created_at
    Customer.objects.bulk_update(customers, ["created_at"], batch_size=_BATCH)

    identities = [identity for d in drafts for identity in d.identities]
    for d in drafts:
        for identity in d.identities:
            identity.customer = d.customer
    taken = set(Identity.objects.filter(value__in=[i.value for i in identities]).values_list("kind", "value"))
    # Real customers keep their identities; a demo customer just goes without a clashing one.
    identities = [i for i in identities if (i.kind, i.value) not in taken]
    Identity.objects.bulk_create(identities, batch_size=_BATCH)
    for identity in identities:
        identity.created_at = identity.customer.created_at
    Identity.objects.bulk_update(identities, ["created_at"], batch_size=_BATCH)

    conversations = [c for _, convs in history for c in convs]
    Conversation.objects.bulk_create([c.conversation for c in conversations], batch_size=_BATCH)
    for c in conversations:
        for message in c.messages:
            message.conversation = c.conversation
    Message.objects.bulk_create([m for c in conversations for m in c.messages], batch_size=_BATCH)
    SurveyResponse.objects.bulk_create(responses, batch_size=_BATCH)


def _create_staff(*, now: datetime, password: str | None) -> list[User]:
    users = []
    for position, spec in enumerate(data.STAFF):
        user = do_create_user(
            username=data.USERNAME_PREFIX + spec.username,
            password=None,
            role=spec.role,
            email=f"{spec.username}@{data.STAFF_EMAIL_DOMAIN}",
            first_name=spec.first_name,
            last_name=spec.last_name,
            language=spec.language,
        )
        user.date_joined = now - timedelta(days=240 - 9 * position)
        users.append(user)
    User.objects.bulk_update(users, ["date_joined"])
    if password:
        _set_password(users, password)
    return users


def _set_password(users: list[User], password: str) -> None:
    # One hash shared by all demo users: hashing is deliberately slow and they share the password anyway.
    hashed = make_password(password)
    User.objects.filter(pk__in=[u.pk for u in users]).update(password=hashed)
    for user in users:
        user.password = hashed


def _create_teams(*, users: list[User], now: datetime) -> dict[str, Team]:
    taken = set(Team.objects.values_list("name", flat=True))
    teams = {}
    for name, description in data.TEAMS:
        members = [u for u, spec in zip(users, data.STAFF, strict=True) if name in spec.teams]
        teams[name] = do_create_team(name=_free_name(name, taken), description=description, members=members)
    Team.objects.filter(pk__in=[t.pk for t in teams.values()]).update(created_at=now - timedelta(days=230))
    return teams


def _create_channels(rng: random.Random, *, teams: dict[str, Team], now: datetime) -> dict[str, Channel]:
    names = [spec.name for spec in data.CHANNELS] + [spec.name + DEMO_SUFFIX for spec in data.CHANNELS]
    taken = set(Channel.objects.filter(name__in=names).values_list("kind", "name"))
    channels = {}
    for spec in data.CHANNELS:
        # Obviously fake and long enough that the UI masks them like real secrets.
        credentials = {
            f: f"demo-{f.replace('_', '-')}-{rng.getrandbits(64):016x}" for f in CREDENTIAL_FIELDS[spec.kind]
        }
        channels[spec.key] = do_create_channel(
            kind=spec.kind,
            name=_free_name(spec.name, {name for kind, name in taken if kind == spec.kind}),
            address=spec.address,
            config={"demo": True, **spec.config},
            credentials=credentials,
            teams=[teams[name] for name in spec.teams],
        )
    connected = now - timedelta(days=200)
    Channel.objects.filter(pk__in=[c.pk for c in channels.values()]).update(
        created_at=connected, updated_at=connected
    )
    return channels


def _create_surveys(*, owner: User, now: datetime) -> dict[str, Survey]:
    taken = set(Survey.objects.values_list("name", flat=True))
    surveys = {}
    for kind, name, question in data.SURVEYS:
        surveys[kind] = Survey.objects.create(
            kind=kind, name=_free_name(name, taken), question=question, owner=owner
        )
    Survey.objects.filter(pk__in=[s.pk for s in surveys.values()]).update(
        created_at=now - timedelta(days=120)
    )
    return surveys
