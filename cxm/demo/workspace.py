"""The demo's configuration: labels, canned responses, office hours, SLA policies, survey triggers.

Every SLA policy names a demo channel, so the demo's service levels never apply to the workspace's own
conversations, and they go with the channels when the demo is reset.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Q

from accounts.models import Team, User
from channels_app.kinds import ChannelKind
from channels_app.models import Channel
from cxm.demo.markers import free_name
from cxm.demo.settings_data import (
    CANNED,
    CHANNEL_OFFICE,
    LABELS,
    OFFICES,
    STANDARD,
    URGENT,
    Targets,
)
from surveys.models import Survey, SurveyKind, Trigger, TriggerKind
from surveys.widget_services import do_enable_widget
from tickets.labels import do_create_label
from tickets.models import BusinessHours, CannedResponse, Holiday, Label, Priority, SlaPolicy

# Which survey a resolution triggers, by channel: CSAT where people write, CES after quick chats. The
# mobile app's API channel has none: its users often have no address a survey could go to.
CES_CHANNELS = ("webchat", "sms", "whatsapp")
CSAT_CHANNELS = ("email_en", "email_pl", "telegram", "messenger", "instagram")
CSAT_DELAY_MINUTES = 60
CES_DELAY_MINUTES = 10
# Relationship NPS goes out a day after an order arrives.
NPS_EVENT = "order_delivered"
NPS_DELAY_MINUTES = 24 * 60


def create_labels(*, actor: User) -> dict[str, Label]:
    return {name: do_create_label(actor=actor, name=name, color=color) for name, color in LABELS.items()}


def create_canned(*, teams: dict[str, Team]) -> list[CannedResponse]:
    taken = set(
        CannedResponse.objects.filter(shortcut__in=[c.shortcut for c in CANNED]).values_list(
            "shortcut", flat=True
        )
    )
    rows = []
    for canned in CANNED:
        shortcut = canned.shortcut if canned.shortcut not in taken else f"{canned.shortcut}-demo"
        rows.append(
            CannedResponse(title=canned.title, shortcut=shortcut, body=canned.body, team=teams[canned.team])
        )
    return CannedResponse.objects.bulk_create(rows)


def create_service_levels(*, channels: dict[str, Channel], now: datetime) -> list[SlaPolicy]:
    """Office hours with their holidays, and two policies per channel: working-time and urgent."""
    names = [o.name for o in OFFICES]
    taken = set(
        BusinessHours.objects.filter(
            Q(name__in=names) | Q(name__in=[n + " (demo)" for n in names])
        ).values_list("name", flat=True)
    )
    offices = {}
    holidays = []
    for office in OFFICES:
        hours = BusinessHours.objects.create(
            name=free_name(office.name, taken), timezone=office.timezone, intervals=office.intervals
        )
        offices[office.key] = hours
        for year in (now.year - 1, now.year, now.year + 1):
            holidays += [
                Holiday(business_hours=hours, date=date(year, month, day), name=name)
                for month, day, name in office.holidays
            ]
    Holiday.objects.bulk_create(holidays)

    policies = []
    for key, channel in channels.items():
        targets = STANDARD[_channel_class(channel.kind)]
        policies.append(
            _policy(f"{channel.name}: working hours", channel, "", targets, offices[CHANNEL_OFFICE[key]])
        )
        policies.append(
            _policy(f"{channel.name}: urgent, around the clock", channel, Priority.URGENT, URGENT)
        )
    return SlaPolicy.objects.bulk_create(policies)


def _channel_class(kind: str) -> str:
    if kind == ChannelKind.WEBCHAT:
        return "webchat"
    return "email" if kind in (ChannelKind.EMAIL, ChannelKind.API) else "messaging"


def _policy(
    name: str, channel: Channel, priority: str, targets: Targets, hours: BusinessHours | None = None
) -> SlaPolicy:
    return SlaPolicy(
        name=name,
        channel=channel,
        priority=priority,
        first_response_minutes=targets.first,
        next_response_minutes=targets.following,
        resolution_minutes=targets.resolution,
        business_hours=hours,
    )


def configure_surveys(*, surveys: dict[str, Survey]) -> None:
    """Fatigue rules a support team would pick, and the relationship NPS on the website too."""
    for kind in (SurveyKind.CSAT, SurveyKind.CES):
        surveys[kind].recontact_days = 14
        surveys[kind].save(update_fields=["recontact_days"])
    surveys[SurveyKind.NPS] = do_enable_widget(survey=surveys[SurveyKind.NPS])


def create_triggers(*, surveys: dict[str, Survey], channels: dict[str, Channel]) -> dict[str, Trigger]:
    """Created after the history is in place: a trigger reacts to what happens from now on only."""
    csat = Trigger.objects.create(
        survey=surveys[SurveyKind.CSAT], kind=TriggerKind.RESOLVED, delay_minutes=CSAT_DELAY_MINUTES
    )
    csat.channels.set([channels[key] for key in CSAT_CHANNELS])
    ces = Trigger.objects.create(
        survey=surveys[SurveyKind.CES], kind=TriggerKind.RESOLVED, delay_minutes=CES_DELAY_MINUTES
    )
    ces.channels.set([channels[key] for key in CES_CHANNELS])
    nps = Trigger.objects.create(
        survey=surveys[SurveyKind.NPS],
        kind=TriggerKind.EVENT,
        event_name=NPS_EVENT,
        delay_minutes=NPS_DELAY_MINUTES,
    )
    return {SurveyKind.CSAT: csat, SurveyKind.CES: ces, SurveyKind.NPS: nps}
