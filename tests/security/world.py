"""A small workspace with two teams, for the authorization tests.

Team EN owns an email channel and a conversation; team RU owns another email channel and a conversation
with the same customer. Everything a route can name (a message, an attachment, a note, a label, a saved
view, a survey answer, a follow-up, a segment, an import, a merge) exists once and belongs to the EN
side, so the RU agent is the "agent of another team" for every object.

Every text that only someone allowed to open the EN conversation may read contains SECRET, so a page can
be checked for leaks without knowing how it renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from accounts.api_keys import do_create_api_key, do_revoke_api_key
from accounts.models import ApiKey, Team, User
from accounts.roles import Role
from accounts.services import do_create_team, do_create_user
from channels_app.models import Channel
from channels_app.outbound_models import OutboundMessage, OutboundStatus
from channels_app.services import do_create_channel
from profiles.models import (
    Customer,
    CustomerImport,
    CustomerNote,
    Identity,
    IdentityKind,
    MergeLog,
    MergeSuggestion,
    Segment,
)
from profiles.timeline import record_message, record_survey_answer
from surveys.invitation_models import FollowUp, Invitation, InvitationStatus, Medium, TriggerKind
from surveys.invitations import new_token
from surveys.models import Survey, SurveyKind, SurveyResponse
from tickets.attachment_links import signed_url
from tickets.models import (
    Attachment,
    Conversation,
    Direction,
    InternalNote,
    Label,
    Message,
    SavedView,
    SavedViewVisibility,
)

SECRET = "SECRET"
PASSWORD = "matrix-password-0123456789"

# The six ways to call a route, in the order every expectation row lists them.
ROLES = ("admin", "manager", "agent", "agent_other_team", "agent_all_access", "anonymous")


@dataclass
class World:
    users: dict[str, User | None]
    team_en: Team
    team_ru: Team
    channel_en: Channel
    channel_ru: Channel
    customer: Customer
    duplicate: Customer
    conversation_en: Conversation
    conversation_ru: Conversation
    message_in: Message
    message_out: Message
    attachment: Attachment
    attachment_token: str
    note: InternalNote
    label: Label
    saved_view: SavedView
    survey: Survey
    invitation: Invitation
    response: SurveyResponse
    follow_up: FollowUp
    segment: Segment
    customer_import: CustomerImport
    suggestion: MergeSuggestion
    merge_log: MergeLog
    api_key: ApiKey
    api_key_plaintext: str
    revoked_key_plaintext: str
    # The session cookie of each signed-in role (made once: a login per request would double the time).
    sessions: dict[str, str]


def _user(username: str, role: str, *, teams: list[Team] = ()) -> User:
    user = do_create_user(username=username, password=PASSWORD, role=role)
    user.teams.set(teams)
    return user


def build_world() -> World:
    now = timezone.now()
    team_en = do_create_team(name="Matrix EN")
    team_ru = do_create_team(name="Matrix RU")
    all_access = _user("matrix.all", Role.AGENT, teams=[team_ru])
    all_access.user_permissions.add(Permission.objects.get(codename="view_all_conversations"))
    users: dict[str, User | None] = {
        "admin": _user("matrix.admin", Role.ADMIN),
        "manager": _user("matrix.manager", Role.MANAGER),
        "agent": _user("matrix.agent", Role.AGENT, teams=[team_en]),
        "agent_other_team": _user("matrix.other", Role.AGENT, teams=[team_ru]),
        "agent_all_access": all_access,
        "anonymous": None,
    }
    channel_en = do_create_channel(
        kind="email", name="Matrix EN mail", address="en@shop.example", teams=[team_en]
    )
    channel_ru = do_create_channel(
        kind="email", name="Matrix RU mail", address="ru@shop.example", teams=[team_ru]
    )

    customer = Customer.objects.create(name="Matrix Customer")
    Identity.objects.create(customer=customer, kind=IdentityKind.EMAIL, value="matrix.customer@example.com")
    duplicate = Customer.objects.create(name="Matrix Customer Twin")
    conversation_en = Conversation.objects.create(
        customer=customer,
        channel=channel_en,
        subject=f"EN {SECRET} subject",
        created_at=now - timedelta(hours=2),
        last_activity_at=now - timedelta(hours=1),
    )
    conversation_ru = Conversation.objects.create(
        customer=customer, channel=channel_ru, subject="RU subject", created_at=now, last_activity_at=now
    )
    message_in = Message.objects.create(
        conversation=conversation_en,
        channel=channel_en,
        direction=Direction.INBOUND,
        body=f"EN {SECRET} question",
        html=f"<p>EN {SECRET} question</p>",
        created_at=now - timedelta(hours=2),
    )
    message_out = Message.objects.create(
        conversation=conversation_en,
        channel=channel_en,
        direction=Direction.OUTBOUND,
        author=users["agent"],
        body=f"EN {SECRET} private reply",
        created_at=now - timedelta(hours=1),
    )
    # A reply the provider refused: the one the retry route names.
    OutboundMessage.objects.create(
        channel=channel_en,
        message=message_out,
        recipient="matrix.customer@example.com",
        status=OutboundStatus.FAILED,
        error="550 mailbox unavailable",
    )
    record_message(message_in, new_conversation=True)
    record_message(message_out, new_conversation=False)
    Message.objects.create(
        conversation=conversation_ru,
        channel=channel_ru,
        direction=Direction.INBOUND,
        body="RU question",
        created_at=now,
    )
    attachment = Attachment.objects.create(
        message=message_in, filename="invoice.pdf", content_type="application/pdf", size=4
    )
    attachment.file.save("invoice.pdf", ContentFile(b"%PDF"), save=True)
    note = InternalNote.objects.create(
        conversation=conversation_en, author=users["agent"], body=f"EN {SECRET} internal note"
    )
    CustomerNote.objects.create(customer=customer, author=users["agent"], body="Prefers mail")
    label = Label.objects.create(name="matrix-label")
    conversation_en.labels.add(label)
    saved_view = SavedView.objects.create(
        owner=users["agent"],
        name="EN open",
        params={"status": "open"},
        visibility=SavedViewVisibility.PRIVATE,
    )

    survey = Survey.objects.create(
        kind=SurveyKind.NPS, name="Matrix NPS", public_key="matrixpublickey0123", owner=users["manager"]
    )
    invitation = Invitation.objects.create(
        survey=survey,
        customer=customer,
        token=new_token(),
        medium=Medium.EMAIL,
        trigger=TriggerKind.MANUAL,
        status=InvitationStatus.SENT,
        channel=channel_en,
        conversation=conversation_en,
        recipient="matrix.customer@example.com",
        sent_at=now - timedelta(minutes=30),
        expires_at=now + timedelta(days=7),
    )
    response = SurveyResponse.objects.create(
        survey=survey,
        customer=customer,
        conversation=conversation_en,
        channel=channel_en,
        invitation=invitation,
        medium=Medium.EMAIL,
        score=2,
        comment=f"EN {SECRET} survey comment",
        is_complete=True,
        created_at=now - timedelta(minutes=20),
    )
    record_survey_answer(response)
    follow_up = FollowUp.objects.create(response=response, conversation=conversation_en)

    segment = Segment.objects.create(
        name="Matrix segment",
        definition=[{"type": "attribute", "field": "company", "op": "contains", "value": "Matrix"}],
    )
    customer_import = CustomerImport.objects.create(
        file=ContentFile(b"name,email\nA,a@example.com\n", name="matrix.csv"),
        mapping={"header": ["name", "email"], "encoding": "utf-8", "delimiter": ","},
        created_by=users["manager"],
    )
    suggestion = MergeSuggestion.objects.create(customer=customer, other=duplicate, evidence=[])
    merge_log = MergeLog.objects.create(survivor=customer, merged=duplicate, reason="test", snapshot={})

    api_key, plaintext = do_create_api_key(name="Matrix key")
    revoked, revoked_plaintext = do_create_api_key(name="Matrix revoked key")
    do_revoke_api_key(key=revoked)

    # A second-factor device that was never confirmed (so it changes nobody's login), for the
    # admin pages of devices, which answer 500 rather than 404 for a device that does not exist.
    if apps.is_installed("django_otp.plugins.otp_totp"):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        TOTPDevice.objects.create(user=users["manager"], name="matrix", confirmed=False)

    sessions = {}
    for role, user in users.items():
        if user is not None:
            client = Client()
            client.force_login(user)
            sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value

    token = signed_url(attachment).rsplit("/files/", 1)[1].split("/", 1)[0]
    return World(
        users=users,
        team_en=team_en,
        team_ru=team_ru,
        channel_en=channel_en,
        channel_ru=channel_ru,
        customer=customer,
        duplicate=duplicate,
        conversation_en=conversation_en,
        conversation_ru=conversation_ru,
        message_in=message_in,
        message_out=message_out,
        attachment=attachment,
        attachment_token=token,
        note=note,
        label=label,
        saved_view=saved_view,
        survey=survey,
        invitation=invitation,
        response=response,
        follow_up=follow_up,
        segment=segment,
        customer_import=customer_import,
        suggestion=suggestion,
        merge_log=merge_log,
        api_key=api_key,
        api_key_plaintext=plaintext,
        revoked_key_plaintext=revoked_plaintext,
        sessions=sessions,
    )
