"""The embedded survey widget: who the visitor is, whether to ask them now, and its settings.

Signed-in visitors prove their customer id the way web chat visitors do (channels_app.webchat.identity):
``signature`` = hex HMAC-SHA256(secret, customer id), computed on the site's server. The secret is one
per installation rather than per survey, so a site computes one signature per user for every survey it
embeds; it is derived from SECRET_KEY (every installation has its own without setup) unless
SURVEY_WIDGET_SECRET is set, which is also how it is rotated.

A wrong signature is refused rather than downgraded to an anonymous answer: a misconfigured site would
otherwise silently collect answers that never reach anyone's profile.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from channels_app.webchat.identity import MAX_USER_ID_LENGTH, check_user_hash, user_hash
from channels_app.webchat.origins import normalize_origin
from core.config_audit import do_record_change, snapshot
from profiles.models import Customer, Identity, IdentityKind
from profiles.services import do_resolve_sender
from surveys import fatigue, texts
from surveys.invitation_models import Invitation, InvitationStatus, Medium, TriggerKind
from surveys.invitations import do_invite, is_open
from surveys.models import Survey

KEY_SALT = "cxm.surveys.widget.identity"
# Anonymous visitor ids are made by the widget (crypto.randomUUID or 32 hex digits).
VISITOR_ID_RE = re.compile(r"^[0-9a-fA-F-]{16,64}$")
MAX_DELAY_S = 3600
MAX_PATHS = 50
MAX_ORIGINS = 50


class WidgetError(Exception):
    """A refused widget request; `code` is what the JSON error says, `status` the HTTP status."""

    def __init__(self, code: str, status: int = 400):
        super().__init__(code)
        self.code = code
        self.status = status


def identity_secret() -> str:
    configured = getattr(settings, "SURVEY_WIDGET_SECRET", "")
    if configured:
        return str(configured)
    return salted_hmac(KEY_SALT, "identity-secret", algorithm="sha256").hexdigest()


def signature_for(customer_id: str) -> str:
    """What the site's server computes for a signed-in customer (shown on the settings page)."""
    return user_hash(identity_secret(), customer_id)


@dataclass(frozen=True)
class Rules:
    delay_seconds: int = 0
    paths: list[str] = field(default_factory=list)
    signed_in_only: bool = False
    allowed_origins: list[str] = field(default_factory=list)

    def as_public(self) -> dict[str, Any]:
        return {
            "delay_seconds": self.delay_seconds,
            "paths": self.paths,
            "signed_in_only": self.signed_in_only,
        }


def rules_of(survey: Survey) -> Rules:
    """The survey's widget_rules read defensively: the JSON may have been edited by hand or by the API."""
    raw = survey.widget_rules if isinstance(survey.widget_rules, dict) else {}
    try:
        delay = max(0, min(MAX_DELAY_S, int(raw.get("delay_seconds") or 0)))
    except (TypeError, ValueError):
        delay = 0
    paths = raw.get("paths")
    origins = raw.get("allowed_origins")
    return Rules(
        delay_seconds=delay,
        paths=[str(p) for p in paths if str(p).strip()][:MAX_PATHS] if isinstance(paths, list) else [],
        signed_in_only=raw.get("signed_in_only") is True,
        allowed_origins=[str(o) for o in origins][:MAX_ORIGINS] if isinstance(origins, list) else [],
    )


def path_matches(rules: Rules, path: str) -> bool:
    if not rules.paths:
        return True
    path = path or "/"
    return any(fnmatchcase(path, pattern.strip()) for pattern in rules.paths)


def find_survey(public_key: str) -> Survey | None:
    if not public_key or len(public_key) > 32:
        return None
    return Survey.objects.filter(public_key=public_key).first()


@dataclass(frozen=True)
class Visitor:
    customer_id: str = ""  # set only once the signature checked out
    anonymous_id: str = ""

    @property
    def signed(self) -> bool:
        return bool(self.customer_id)


def check_visitor(*, customer_id: Any, signature: Any, visitor_id: Any) -> Visitor:
    customer_id = customer_id.strip() if isinstance(customer_id, str) else ""
    if customer_id:
        given = signature if isinstance(signature, str) else ""
        if len(customer_id) > MAX_USER_ID_LENGTH or not check_user_hash(
            identity_secret(), customer_id, given
        ):
            raise WidgetError("bad_signature", 403)
        return Visitor(customer_id=customer_id)
    if not isinstance(visitor_id, str) or not VISITOR_ID_RE.match(visitor_id):
        raise WidgetError("bad_visitor")
    return Visitor(anonymous_id=visitor_id.lower())


def resolve_customer(customer_id: str) -> Customer:
    """The profile behind a signed customer id; the site vouched for it, so the identity is verified."""
    customer = do_resolve_sender(kind=IdentityKind.EXTERNAL_ID, value=customer_id)
    Identity.objects.filter(kind=IdentityKind.EXTERNAL_ID, value=customer_id, verified=False).update(
        verified=True
    )
    return customer


@dataclass(frozen=True)
class Decision:
    show: bool
    reason: str = ""  # a code for the site's developer console, never shown to the visitor
    invitation: Invitation | None = None


def _resumable(survey: Survey, token: Any, visitor: Visitor, now: datetime) -> Invitation | None:
    """The visitor's own still-open invitation, so a page reload shows the same survey again."""
    if not isinstance(token, str) or not token or len(token) > 64:
        return None
    invitation = (
        Invitation.objects.select_related("customer")
        .filter(token=token, survey=survey, medium=Medium.WIDGET)
        .first()
    )
    if invitation is None or not is_open(invitation, now):
        return None
    if visitor.signed:
        owner = Identity.objects.filter(kind=IdentityKind.EXTERNAL_ID, value=visitor.customer_id).first()
        return invitation if owner and owner.customer_id == invitation.customer_id else None
    return invitation if invitation.recipient == f"visitor:{visitor.anonymous_id}" else None


@transaction.atomic
def do_decide_and_invite(
    *,
    survey: Survey,
    visitor: Visitor,
    path: str,
    language: str,
    token: Any = None,
    now: datetime | None = None,
) -> Decision:
    """Whether to show the survey to this visitor now; the invitation exists only when it is shown.

    Anonymous visitors are sampled by their random visitor id and remember on their own device when they
    were last asked (nothing server-side ties two visits of one anonymous person together).
    """
    now = now or timezone.now()
    if not fatigue.active(survey, now):
        return Decision(False, "inactive")
    rules = rules_of(survey)
    if rules.signed_in_only and not visitor.signed:
        return Decision(False, "signed_in_only")
    if not path_matches(rules, path):
        return Decision(False, "path")
    resumed = _resumable(survey, token, visitor, now)
    if resumed is not None:
        return Decision(True, "resumed", resumed)
    if visitor.signed:
        customer = resolve_customer(visitor.customer_id)
        reason = fatigue.throttle_reason(survey, customer, now)
        if reason:
            # Not logged as a throttled invitation: a widget evaluates on every page view, and a row per
            # view would flood the send log without telling anyone anything new.
            return Decision(False, "throttled")
        invitation = do_invite(
            survey=survey,
            customer=customer,
            medium=Medium.WIDGET,
            trigger=TriggerKind.WIDGET,
            locale=language,
            now=now,
            enforce_fatigue=False,
        )
        return Decision(True, "", invitation)
    if not fatigue.in_sample(survey, f"visitor:{visitor.anonymous_id}"):
        return Decision(False, "sample")
    invitation = do_invite(
        survey=survey,
        customer=None,
        medium=Medium.WIDGET,
        trigger=TriggerKind.WIDGET,
        recipient=f"visitor:{visitor.anonymous_id}",
        locale=language,
        now=now,
        enforce_fatigue=False,
    )
    return Decision(True, "", invitation)


def survey_content(survey: Survey, language: str) -> dict[str, Any]:
    """Everything the widget shows, in the visitor's language."""
    from django.utils import translation
    from django.utils.translation import gettext as _

    low, high = texts.scale_ends(survey, language)
    with translation.override(language):
        labels = {
            "close": _("Close"),
            "comment": _("Your comment (optional)"),
            "send": _("Send"),
            "skip": _("Skip"),
            "thanks": _("Thank you for your feedback!"),
            "error": _("Sorry, your answer could not be sent. Please try again."),
        }
    return {
        "language": language,
        "kind": survey.kind,
        "style": survey.scale_style,
        "question": texts.question_text(survey, language),
        "follow_up": texts.follow_up_text(survey, language),
        "choices": [
            {"value": c.value, "label": c.label, "description": c.description}
            for c in texts.choices(survey, language)
        ],
        "ends": [low, high],
        "labels": labels,
    }


def answer_invitation(token: Any) -> Invitation | None:
    """The widget invitation a token opens, or None; other media's tokens are not answered here."""
    if not isinstance(token, str) or not token or len(token) > 64:
        return None
    return (
        Invitation.objects.select_related("survey")
        .filter(token=token, medium=Medium.WIDGET)
        .exclude(status=InvitationStatus.THROTTLED)
        .first()
    )


# --- Settings -----------------------------------------------------------------------------------------
def new_public_key() -> str:
    return secrets.token_hex(8)


@transaction.atomic
def do_enable_widget(*, survey: Survey) -> Survey:
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if not survey.public_key:
        survey.public_key = new_public_key()
        survey.save(update_fields=["public_key"])
    return survey


@transaction.atomic
def do_update_widget_rules(
    *, survey: Survey, delay_seconds: int, paths: list[str], signed_in_only: bool, allowed_origins: list[str]
) -> Survey:
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    before = snapshot(survey)
    current = survey.widget_rules if isinstance(survey.widget_rules, dict) else {}
    survey.widget_rules = {
        **current,
        "delay_seconds": max(0, min(MAX_DELAY_S, delay_seconds)),
        "paths": paths[:MAX_PATHS],
        "signed_in_only": signed_in_only,
        "allowed_origins": [normalize_origin(o) for o in allowed_origins if normalize_origin(o)][
            :MAX_ORIGINS
        ],
    }
    survey.save(update_fields=["widget_rules"])
    do_record_change(instance=survey, before=before)
    return survey
