"""How demo rows are told apart from the workspace's own data, without a registry table.

- users: the username starts with ``demo.``;
- channels: ``config["demo"] is True``; their SLA policies hang off them;
- customers: ``attributes["demo"] is True``; identities, events, timeline, conversations, messages,
  invitations and answers hang off them;
- surveys: owned by a demo user; their triggers hang off them;
- teams: named as in :mod:`cxm.demo.data` and with demo users as their only members; their canned
  responses hang off them;
- business hours: named as in :mod:`cxm.demo.settings_data` and used by demo policies only.

Labels are the one exception: they are the workspace's shared vocabulary, so the demo reuses a label of
the same name and never deletes one.
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Team, User
from channels_app.models import Channel
from cxm.demo import data
from cxm.demo.settings_data import OFFICES
from profiles.models import Customer
from surveys.models import Survey
from tickets.models import BusinessHours, SlaPolicy

DEMO_SUFFIX = " (demo)"


class DemoDataError(Exception):
    """The demo cannot be seeded or removed without touching data that is not demo data."""


def free_name(name: str, taken: set[str]) -> str:
    """The name, or ``"<name> (demo)"`` when the workspace already uses it for something of its own."""
    for candidate in (name, name + DEMO_SUFFIX):
        if candidate not in taken:
            return candidate
    raise DemoDataError(f"Not seeding: both {name!r} and {name + DEMO_SUFFIX!r} are taken by other data.")


def demo_users() -> QuerySet[User]:
    return User.objects.filter(username__startswith=data.USERNAME_PREFIX)


def demo_channels() -> QuerySet[Channel]:
    return Channel.objects.filter(config__demo=True)


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


def demo_business_hours() -> QuerySet[BusinessHours]:
    names = [o.name for o in OFFICES] + [o.name + DEMO_SUFFIX for o in OFFICES]
    foreign = SlaPolicy.objects.exclude(channel__config__demo=True)
    return BusinessHours.objects.filter(name__in=names).exclude(policies__in=foreign)
