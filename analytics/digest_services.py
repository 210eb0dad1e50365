"""The weekly digest: a user's choice (opt-in), and sending the digests that are due.

``do_send_due_digests`` is what the beat task runs every quarter of an hour. A digest goes to an active
user who opted in, may view the dashboards and has an email address, once per week, on Monday
morning in the time zone they chose, in their language, with the numbers they may see (their
visibility). A week is claimed before the mail is sent, by a conditional update, so overlapping runs
never send it twice; a failed send gives the claim back and the next run tries again.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts import roles
from accounts.models import User
from analytics.digest_content import build_digest
from analytics.digest_models import DigestSubscription
from analytics.digest_schedule import due_week, is_zone, reported_week, zone_or_utc
from core.public_url import public_base_url

log = logging.getLogger(__name__)


class DigestSettingsError(ValueError):
    pass


def do_set_digest(*, user: User, enabled: bool, time_zone: str) -> DigestSubscription:
    if not is_zone(time_zone):
        raise DigestSettingsError(f"unknown time zone {time_zone!r}")
    subscription, _created = DigestSubscription.objects.update_or_create(
        user=user, defaults={"enabled": enabled, "time_zone": time_zone}
    )
    return subscription


def digest_for(user: User) -> DigestSubscription:
    """The user's choice as stored, or the default (off, in the server's time zone) unsaved."""
    found = DigestSubscription.objects.filter(user=user).first()
    return found or DigestSubscription(user=user, enabled=False, time_zone=settings.TIME_ZONE)


def do_send_due_digests(*, now: datetime | None = None) -> int:
    """Send every digest due at ``now``; returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    subscriptions = (
        DigestSubscription.objects.filter(enabled=True, user__is_active=True)
        .exclude(Q(user__email="") | Q(user__email__isnull=True))
        .select_related("user")
        .order_by("pk")
    )
    for subscription in subscriptions:
        week = due_week(now, time_zone=subscription.time_zone, last_week=subscription.last_week)
        if week is None or not subscription.user.has_perm(roles.VIEW_DASHBOARDS):
            continue
        if not _claim(subscription, week):
            continue  # another run took this week
        try:
            send_digest(subscription.user, monday=week, time_zone=subscription.time_zone)
        except Exception:
            log.exception("weekly digest to user %s failed", subscription.user_id)
            DigestSubscription.objects.filter(pk=subscription.pk, last_week=week).update(
                last_week=subscription.last_week
            )
            continue
        sent += 1
    return sent


def _claim(subscription: DigestSubscription, week: date) -> bool:
    earlier = Q(last_week__isnull=True) | Q(last_week__lt=week)
    return bool(DigestSubscription.objects.filter(earlier, pk=subscription.pk).update(last_week=week))


def send_digest(user: User, *, monday: date, time_zone: str) -> None:
    """Render and send the digest of the week before ``monday`` (local) to ``user``."""
    start, end = reported_week(monday, time_zone)
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(zone_or_utc(time_zone)):
        base_url = public_base_url()
        digest = build_digest(user, start=start, end=end, time_zone=time_zone, base_url=base_url)
        context = {
            "digest": digest,
            "user": user,
            "last_day": (end - timedelta(days=1)).date(),
            "settings_url": base_url + reverse("security_settings"),
            "LANGUAGE_CODE": language,
        }
        subject = " ".join(render_to_string("analytics/email_digest_subject.txt", context).split())
        text = render_to_string("analytics/email_digest.txt", context)
        html = render_to_string("analytics/email_digest.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    message.send()
