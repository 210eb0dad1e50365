"""Shareable survey links and their QR codes, for touchpoints where we do not know who answers."""

from __future__ import annotations

import io
import secrets

import segno
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from surveys.invitation_models import Invitation, Medium, TriggerKind
from surveys.invitations import do_invite
from surveys.models import Survey
from surveys.texts import pick_language


def absolute(path: str, *, base: str | None = None) -> str:
    """A link for mail and messages (the configured public address), or for a page that knows the
    address it is served at (``base`` from core.public_url)."""
    return (base or settings.PUBLIC_BASE_URL).rstrip("/") + path


@transaction.atomic
def do_enable_sharing(*, survey: Survey) -> Survey:
    """Give the survey a public key (kept if it has one: printed QR codes must keep working)."""
    locked = Survey.objects.select_for_update().get(pk=survey.pk)
    if not locked.public_key:
        # 16 random bytes: the key is public, but guessing other surveys' keys must stay impractical.
        locked.public_key = secrets.token_urlsafe(16)[:32]
        locked.save(update_fields=["public_key"])
    survey.public_key = locked.public_key
    return survey


@transaction.atomic
def do_disable_sharing(*, survey: Survey) -> Survey:
    """Invalidate the link (and every printed QR code); enabling again makes a new key."""
    Survey.objects.filter(pk=survey.pk).update(public_key=None)
    survey.public_key = None
    return survey


def share_url(survey: Survey, *, base: str | None = None) -> str:
    if not survey.public_key:
        return ""
    return absolute(reverse("survey_public:share", kwargs={"public_key": survey.public_key}), base=base)


def qr_svg(url: str) -> str:
    """A standalone SVG, dark on white with the quiet zone scanners need, sized by the viewBox so
    print layouts can scale it freely."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        out, kind="svg", scale=8, border=4, dark="#000", light="#fff", omitsize=True, title=url
    )
    return out.getvalue().decode()


def do_open_link_invitation(*, survey: Survey, language: str = "") -> Invitation:
    """A fresh anonymous invitation per visit: each visitor answers once with their own token.

    Fatigue rules need a person; without one only the survey's active period applies, and an inactive
    survey yields a throttled invitation, which the caller shows as "closed".
    """
    return do_invite(
        survey=survey,
        customer=None,
        medium=Medium.LINK,
        trigger=TriggerKind.LINK,
        locale=pick_language(language),
        enforce_fatigue=True,
    )
