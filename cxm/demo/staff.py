"""The demo's people and places: staff with their teams, channels and surveys."""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password

from accounts.models import Team, User
from accounts.services import do_create_team, do_create_user
from channels_app.demo import DEMO_FLAG
from channels_app.kinds import CREDENTIAL_FIELDS
from channels_app.models import Channel
from channels_app.services import do_create_channel
from cxm.demo import data
from cxm.demo.markers import DEMO_SUFFIX, free_name
from surveys.models import Survey


def create_staff(*, now: datetime, password: str | None) -> list[User]:
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
        set_password(users, password)
    return users


def set_password(users: list[User], password: str) -> None:
    # One hash shared by all demo users: hashing is deliberately slow and they share the password anyway.
    hashed = make_password(password)
    User.objects.filter(pk__in=[u.pk for u in users]).update(password=hashed)
    for user in users:
        user.password = hashed


def create_teams(*, users: list[User], now: datetime) -> dict[str, Team]:
    taken = set(Team.objects.values_list("name", flat=True))
    teams = {}
    for name, description in data.TEAMS:
        members = [u for u, spec in zip(users, data.STAFF, strict=True) if name in spec.teams]
        teams[name] = do_create_team(name=free_name(name, taken), description=description, members=members)
    Team.objects.filter(pk__in=[t.pk for t in teams.values()]).update(created_at=now - timedelta(days=230))
    return teams


def create_channels(rng: random.Random, *, teams: dict[str, Team], now: datetime) -> dict[str, Channel]:
    names = [spec.name for spec in data.CHANNELS] + [spec.name + DEMO_SUFFIX for spec in data.CHANNELS]
    taken = set(Channel.objects.filter(name__in=names).values_list("kind", "name"))
    channels = {}
    for spec in data.CHANNELS:
        # Fresh on every install: a demo that stays connected must not have secrets anyone can recompute
        # from the seed (a signed webhook or a web chat identity hash would then be forgeable). The seeded
        # generator still advances as before so the rest of the demo keeps its people and texts.
        credentials = {}
        for f in CREDENTIAL_FIELDS[spec.kind]:
            rng.getrandbits(64)
            credentials[f] = f"demo-{f.replace('_', '-')}-{secrets.token_hex(16)}"
        channels[spec.key] = do_create_channel(
            kind=spec.kind,
            name=free_name(spec.name, {name for kind, name in taken if kind == spec.kind}),
            address=spec.address,
            # Marked demo: its webhooks refuse deliveries until an admin turns inbound on (webhook_checks).
            config={**spec.config, DEMO_FLAG: True},
            credentials=credentials,
            teams=[teams[name] for name in spec.teams],
        )
    connected = now - timedelta(days=200)
    Channel.objects.filter(pk__in=[c.pk for c in channels.values()]).update(
        created_at=connected, updated_at=connected
    )
    return channels


def create_surveys(*, owner: User, now: datetime) -> dict[str, Survey]:
    taken = set(Survey.objects.values_list("name", flat=True))
    surveys = {}
    for kind, name, question in data.SURVEYS:
        surveys[kind] = Survey.objects.create(
            kind=kind, name=free_name(name, taken), question=question, owner=owner
        )
    Survey.objects.filter(pk__in=[s.pk for s in surveys.values()]).update(
        created_at=now - timedelta(days=120)
    )
    for survey in surveys.values():
        survey.created_at = now - timedelta(days=120)
    return surveys
