"""Whether a person may be asked now: one set of rules across every survey and every channel."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from profiles.models import Customer
from surveys.invitation_models import Invitation, InvitationStatus
from surveys.models import Survey

# Invitations that count as "asked": a throttled or failed one never reached the person.
_ASKED = [InvitationStatus.SENT, InvitationStatus.ANSWERED, InvitationStatus.PENDING]


def opted_out(customer: Customer) -> bool:
    state = (customer.consent or {}).get("surveys")
    return isinstance(state, dict) and state.get("status") == "opted_out"


def in_sample(survey: Survey, customer_key: str) -> bool:
    """Stable per person and survey: asking again tomorrow gives the same answer as today."""
    if survey.sampling_percent >= 100:
        return True
    digest = hashlib.sha256(f"{survey.pk}:{customer_key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < survey.sampling_percent


def customer_zone(customer: Customer | None) -> ZoneInfo:
    name = (customer.timezone if customer else "") or settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def quiet_until(customer: Customer | None, now: datetime) -> datetime | None:
    """The end of the customer's quiet hours if `now` falls inside them, else None."""
    start, end = settings.SURVEY_QUIET_HOURS
    if start == end:
        return None
    local = now.astimezone(customer_zone(customer))
    hour = local.hour
    inside = (start <= hour or hour < end) if start > end else (start <= hour < end)
    if not inside:
        return None
    wake = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if wake <= local:
        wake += timedelta(days=1)
    return wake.astimezone(timezone.get_current_timezone())


def active(survey: Survey, now: datetime) -> bool:
    if not survey.is_active:
        return False
    if survey.starts_at and now < survey.starts_at:
        return False
    return not (survey.ends_at and now >= survey.ends_at)


@dataclass(frozen=True)
class RecentlyAsked:
    """Who among a group of people was asked recently: by any survey, and by this one."""

    any_survey: frozenset[int]
    this_survey: frozenset[int]


def recently_asked(survey: Survey, customer_ids: list[int], now: datetime) -> RecentlyAsked:
    asked = Invitation.objects.filter(customer_id__in=customer_ids, status__in=_ASKED)
    floor = now - timedelta(days=settings.SURVEY_MIN_INTERVAL_DAYS)
    this_floor = now - timedelta(days=survey.recontact_days)
    return RecentlyAsked(
        any_survey=frozenset(asked.filter(created_at__gte=floor).values_list("customer_id", flat=True)),
        this_survey=frozenset(
            asked.filter(survey=survey, created_at__gte=this_floor).values_list("customer_id", flat=True)
        ),
    )


def throttle_reason(
    survey: Survey, customer: Customer | None, now: datetime, asked: RecentlyAsked | None = None
) -> str:
    """Why this person must not be asked now ("" when they may). Quiet hours delay rather than refuse.

    `asked` answers the interval rules for a batch of people at once (surveys.triggers); without it
    they are looked up for this one person.
    """
    if not active(survey, now):
        return _("The survey is not active.")
    if customer is None:
        return ""
    if customer.erased_at is not None:
        return _("The profile was erased.")
    if opted_out(customer):
        return _("The customer opted out of surveys.")
    if not in_sample(survey, str(customer.pk)):
        return _("Not in the survey's %(percent)s%% sample.") % {"percent": survey.sampling_percent}
    asked = asked or recently_asked(survey, [customer.pk], now)
    if customer.pk in asked.any_survey:
        return _("Asked another survey less than %(days)s days ago.") % {
            "days": settings.SURVEY_MIN_INTERVAL_DAYS
        }
    if customer.pk in asked.this_survey:
        return _("Asked this survey less than %(days)s days ago.") % {"days": survey.recontact_days}
    return ""
