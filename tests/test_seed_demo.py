from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from accounts.models import Team, User
from accounts.roles import Role
from channels_app.kinds import ChannelKind
from channels_app.models import Channel
from cxm.demo import data
from cxm.demo.services import DemoDataError, demo_counts, do_seed_demo
from profiles.models import Customer, CustomerEvent, Identity, IdentityKind, TimelineEntry
from surveys.models import SCALES, FollowUp, Invitation, Survey, SurveyKind, SurveyResponse, Trigger
from tickets.models import (
    BusinessHours,
    CannedResponse,
    Conversation,
    ConversationStatus,
    Direction,
    Holiday,
    Label,
    Message,
    Priority,
    SlaPolicy,
)

pytestmark = pytest.mark.django_db

CUSTOMERS = 40
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
POLISH = re.compile(r"[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")
E164 = re.compile(r"^\+[1-9]\d{7,14}$")
ADMIN_LINE = re.compile(r"^Admin login: admin / (\S{16,})$")


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # The default hasher is slow on purpose; these tests hash and check a dozen passwords each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded() -> dict[str, int]:
    return do_seed_demo(customers=CUSTOMERS)


def table_counts() -> dict[str, int]:
    models = [
        User,
        Team,
        Team.members.through,
        Channel,
        Channel.teams.through,
        Customer,
        Identity,
        Conversation,
        Message,
        Survey,
        SurveyResponse,
        CustomerEvent,
        TimelineEntry,
        Invitation,
        FollowUp,
        Trigger,
        Label,
        Conversation.labels.through,
        CannedResponse,
        BusinessHours,
        Holiday,
        SlaPolicy,
    ]
    return {model._meta.label: model.objects.count() for model in models}


def everything_but_passwords() -> tuple:
    """Every demo row as stored, with the users' password hashes left out."""
    users = sorted(
        User.objects.values_list(*[f.attname for f in User._meta.concrete_fields if f.name != "password"])
    )
    return (
        table_counts(),
        users,
        sorted(Conversation.objects.values_list("pk", "status", "last_activity_at", "first_response_due_at")),
        sorted(TimelineEntry.objects.values_list("pk", "occurred_at", "kind")),
        sorted(Invitation.objects.values_list("pk", "status", "answered_at")),
        sorted(FollowUp.objects.values_list("pk", "closed_at", "outcome")),
    )


def fingerprint() -> tuple:
    """What a seeding produced, minus ids and timestamps (which depend on when it ran)."""
    return (
        sorted(Customer.objects.values_list("name", "locale", "timezone", "company")),
        sorted(Identity.objects.values_list("kind", "value")),
        sorted(Conversation.objects.values_list("subject", "status", "priority", "channel__name")),
        sorted(Message.objects.values_list("body", "direction", "channel__name")),
        sorted(SurveyResponse.objects.values_list("survey__kind", "score", "comment")),
    )


def test_every_channel_kind_exists_and_carries_messages(seeded):
    channels = Channel.objects.annotate(n=Count("messages"))
    assert {c.kind for c in channels} == set(ChannelKind.values)
    assert all(c.n > 0 for c in channels), {c.name: c.n for c in channels}
    assert Channel.objects.filter(kind=ChannelKind.EMAIL).count() == 2
    for channel in channels:
        assert channel.teams.exists()
        masked = channel.masked_credentials()
        assert masked and all(v.startswith("••••••") and len(v) > 6 for v in masked.values())
        assert all(v.startswith("demo-") for v in channel.credentials.values())


def test_every_status_and_priority_appears(seeded):
    assert set(Conversation.objects.values_list("status", flat=True)) == set(ConversationStatus.values)
    assert set(Conversation.objects.values_list("priority", flat=True)) == set(Priority.values)
    assert Conversation.objects.exclude(assignee=None).count() > Conversation.objects.count() * 0.8


def test_staff_has_all_roles_teams_and_the_demo_password(seeded):
    users = User.objects.filter(username__startswith=data.USERNAME_PREFIX)
    assert set(users.values_list("role", flat=True)) == set(Role.values)
    assert users.filter(role=Role.AGENT).count() >= 6
    assert set(users.values_list("language", flat=True)) == {"en", "pl", "ru"}
    assert all(u.check_password(data.DEMO_PASSWORD) for u in users)
    assert not User.objects.filter(username="admin").exists()
    assert set(Team.objects.values_list("name", flat=True)) == set(data.TEAM_NAMES)
    assert all(team.members.exists() for team in Team.objects.all())
    assert users.filter(first_name="Дмитрий", last_name="Соколов", language="ru").exists()


def test_customers_reach_us_through_several_channels(seeded):
    customers = Customer.objects.annotate(kinds=Count("identities__kind", distinct=True))
    assert customers.count() == CUSTOMERS
    assert customers.filter(kinds__gte=2).count() >= CUSTOMERS // 4
    assert customers.filter(kinds__gte=3).exists()
    assert set(customers.values_list("locale", flat=True)) == {"en", "pl", "ru"}
    for identity in Identity.objects.all():
        if identity.kind == IdentityKind.EMAIL:
            assert identity.value == identity.value.lower()
            assert identity.value.endswith(".example") or identity.value.split("@")[1].startswith("example.")
        elif identity.kind == IdentityKind.PHONE:
            assert E164.match(identity.value), identity.value
        elif identity.kind in (IdentityKind.WHATSAPP, IdentityKind.TELEGRAM):
            assert identity.value.isdigit(), identity.value
    # A conversation that moved channel, e.g. from web chat to email.
    moved = Conversation.objects.annotate(n=Count("messages__channel", distinct=True)).filter(n__gte=2)
    assert moved.exists()


def test_messages_speak_three_languages(seeded):
    ru = Message.objects.filter(conversation__customer__locale="ru").values_list("body", flat=True)
    pl = Message.objects.filter(conversation__customer__locale="pl").values_list("body", flat=True)
    assert any(CYRILLIC.search(body) for body in ru)
    assert any(POLISH.search(body) for body in pl)
    assert any(CYRILLIC.search(c.name) for c in Customer.objects.filter(locale="ru"))
    assert any(POLISH.search(c.name) for c in Customer.objects.filter(locale="pl"))
    assert not any("{" in body for body in Message.objects.values_list("body", flat=True))


def test_timestamps_are_consistent(seeded):
    now = timezone.now()
    assert Conversation.objects.filter(created_at__lt=now - timezone.timedelta(days=60)).exists()
    # Detractor follow-ups open with the quoted answer alone (tests/test_seed_demo_journey.py).
    for conversation in Conversation.objects.filter(survey_follow_ups=None).prefetch_related("messages"):
        messages = list(conversation.messages.all())
        assert 2 <= len(messages) <= 8
        assert messages[0].created_at == conversation.created_at
        assert messages[0].direction == Direction.INBOUND
        assert conversation.last_activity_at == messages[-1].created_at <= now
        outbound = [m for m in messages if m.direction == Direction.OUTBOUND]
        assert conversation.first_response_at == (outbound[0].created_at if outbound else None)
        assert all(m.author_id == conversation.assignee_id for m in outbound)
        if conversation.status == ConversationStatus.RESOLVED:
            assert conversation.last_activity_at <= conversation.resolved_at <= now
        else:
            assert conversation.resolved_at is None
    for customer in Customer.objects.all():
        assert customer.created_at <= customer.conversations.order_by("created_at")[0].created_at
        assert customer.last_seen_at <= now


def test_survey_responses_cover_all_kinds(seeded):
    for kind in SurveyKind.values:
        survey = Survey.objects.get(kind=kind)
        assert set(survey.question) == {"en", "pl", "ru"}
        scores = list(survey.responses.values_list("score", flat=True))
        assert scores, kind
        low, high = SCALES[kind]
        assert all(low <= s <= high for s in scores)
    responses = SurveyResponse.objects.all()
    assert responses.exclude(comment="").exists()
    assert responses.exclude(conversation=None).exists()
    assert not responses.filter(customer=None).exists()
    assert not responses.filter(created_at__gt=timezone.now()).exists()


def test_second_run_changes_nothing(seeded):
    before = table_counts()
    again = do_seed_demo(customers=CUSTOMERS)
    assert again["created"] == 0 and seeded["created"] == 1
    assert table_counts() == before
    assert {k: v for k, v in again.items() if k != "created"} == demo_counts()


def test_content_is_deterministic_and_reset_recreates_only_demo_rows(seeded):
    first = fingerprint()
    old_ids = set(Customer.objects.values_list("id", flat=True))
    real = Customer.objects.create(name="Real Customer")
    Identity.objects.create(customer=real, kind=IdentityKind.EMAIL, value="real@customer.test")
    real_user = User.objects.create(username="real.agent")
    counts = demo_counts()

    result = do_seed_demo(customers=CUSTOMERS, reset=True)

    assert result["created"] == 1
    assert demo_counts() == counts
    assert Customer.objects.filter(pk=real.pk).exists() and User.objects.filter(pk=real_user.pk).exists()
    demo_ids = set(Customer.objects.filter(attributes__demo=True).values_list("id", flat=True))
    assert not demo_ids & old_ids
    real.delete()
    real_user.delete()
    assert fingerprint() == first


def test_password_option_gives_demo_users_a_login(seeded):
    do_seed_demo(customers=CUSTOMERS, password="demo-password-1")
    agent = User.objects.get(username="demo.katarzyna.nowak")
    assert agent.check_password("demo-password-1")
    assert agent.first_name == "Katarzyna" and agent.language == "pl"


def test_real_rows_with_demo_names_are_left_alone():
    real_user = User.objects.create(username="marta")
    billing = Team.objects.create(name=data.TEAM_BILLING)
    billing.members.add(real_user)
    chat = Channel.objects.create(kind=ChannelKind.WEBCHAT, name="Website chat")
    nps = Survey.objects.create(kind=SurveyKind.NPS, name="Relationship NPS", owner=real_user)
    hello = CannedResponse.objects.create(title="Hi", shortcut="hello", body="Hi!")
    office = BusinessHours.objects.create(
        name="Acme Europe office hours", intervals={"1": [["09:00", "17:00"]]}
    )
    policy = SlaPolicy.objects.create(name="Everything", business_hours=office, first_response_minutes=60)
    refund = Label.objects.create(name="refund", color="red")

    do_seed_demo(customers=CUSTOMERS)
    do_seed_demo(customers=CUSTOMERS, reset=True)

    assert CannedResponse.objects.get(pk=hello.pk).body == "Hi!"
    assert CannedResponse.objects.filter(shortcut="hello-demo").exists()
    assert BusinessHours.objects.filter(name="Acme Europe office hours (demo)").exists()
    assert SlaPolicy.objects.get(pk=policy.pk).business_hours_id == office.pk
    # A label is shared vocabulary: the demo uses the workspace's own and never deletes it.
    assert Label.objects.get(name="refund").pk == refund.pk and refund.conversations.exists()

    assert demo_counts()["teams"] == len(data.TEAMS) and demo_counts()["surveys"] == 3
    assert Team.objects.filter(name=f"{data.TEAM_BILLING} (demo)").exists()
    assert Channel.objects.get(config__demo=True, kind=ChannelKind.WEBCHAT).name == "Website chat (demo)"
    assert list(billing.members.all()) == [real_user]
    assert Channel.objects.filter(pk=chat.pk).exists() and Survey.objects.filter(pk=nps.pk).exists()
    assert not chat.messages.exists() and not nps.responses.exists()


def test_reset_refuses_to_take_real_conversations_with_it(seeded):
    real = Customer.objects.create(name="Real Customer")
    Conversation.objects.create(
        customer=real,
        channel=Channel.objects.get(config__demo=True, kind=ChannelKind.TELEGRAM),
        created_at=timezone.now(),
        last_activity_at=timezone.now(),
    )
    with pytest.raises(DemoDataError, match="real customers"):
        do_seed_demo(customers=CUSTOMERS, reset=True)
    assert Customer.objects.filter(attributes__demo=True).count() == CUSTOMERS


def test_seed_demo_command_prints_a_summary():
    out = StringIO()
    call_command("seed_demo", customers=CUSTOMERS, stdout=out)
    assert f"{CUSTOMERS} customers" in out.getvalue() and "created" in out.getvalue()
    out = StringIO()
    call_command("seed_demo", customers=CUSTOMERS, stdout=out)
    assert "already present" in out.getvalue()
    with pytest.raises(CommandError, match="at least"):
        call_command("seed_demo", customers=3)


def test_ensure_admin_prints_one_login_line_and_is_idempotent():
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    match = ADMIN_LINE.match(lines[0])
    assert match, lines
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.role == Role.ADMIN
    assert admin.check_password(match.group(1))

    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert out.getvalue().splitlines() == [
        "Admin login: admin (already exists; password unchanged — reset with: "
        "python manage.py ensure_admin --reset-password)"
    ]
    admin_again = User.objects.get(username="admin")
    assert admin_again.password == admin.password
    assert User.objects.filter(username="admin").count() == 1


def test_ensure_admin_accepts_a_username_and_password():
    out = StringIO()
    call_command("ensure_admin", username="root", password="a-long-chosen-passphrase", stdout=out)
    assert out.getvalue() == "Admin login: root / a-long-chosen-passphrase\n"
    assert User.objects.get(username="root").check_password("a-long-chosen-passphrase")
    with pytest.raises(CommandError):
        call_command("ensure_admin", username="other", password="123")
    assert not User.objects.filter(username="other").exists()


def test_demo_users_get_no_public_password_in_production(settings):
    settings.CXM_ENV = "production"
    do_seed_demo(customers=CUSTOMERS)
    assert not any(u.has_usable_password() for u in User.objects.filter(username__startswith="demo."))
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", reset_passwords=True, stdout=StringIO())
    call_command("seed_demo", reset_passwords=True, password="a-chosen-demo-pass", stdout=StringIO())
    assert User.objects.get(username="demo.emily.carter").check_password("a-chosen-demo-pass")


def test_reset_passwords_changes_the_demo_passwords_and_nothing_else(seeded):
    real = User.objects.create_user(username="real.agent", password="a-real-password-1")
    agent = User.objects.get(username="demo.emily.carter")
    agent.set_password("changed-by-someone")
    agent.save(update_fields=["password"])
    before = everything_but_passwords()
    real_hash = User.objects.get(pk=real.pk).password

    out = StringIO()
    call_command("seed_demo", reset_passwords=True, stdout=out)

    assert f"Password of {len(data.STAFF)} demo users set." in out.getvalue()
    assert f"/ {data.DEMO_PASSWORD}" in out.getvalue()
    assert all(
        u.check_password(data.DEMO_PASSWORD) for u in User.objects.filter(username__startswith="demo.")
    )
    assert User.objects.get(pk=real.pk).password == real_hash
    assert everything_but_passwords() == before


def test_seed_demo_command_prints_the_demo_login():
    out = StringIO()
    call_command("seed_demo", customers=CUSTOMERS, stdout=out)
    assert f"demo.sarah.mitchell) / {data.DEMO_PASSWORD}" in out.getvalue()
    assert "timeline entries" in out.getvalue() and "survey invitations" in out.getvalue()


def test_ensure_admin_resets_the_password_of_the_admin_only():
    call_command("ensure_admin", stdout=StringIO())
    admin = User.objects.get(username="admin")
    out = StringIO()
    call_command("ensure_admin", reset_password=True, stdout=out)
    match = ADMIN_LINE.match(out.getvalue().strip())
    assert match
    admin.refresh_from_db()
    assert admin.check_password(match.group(1)) and admin.is_superuser

    call_command("ensure_admin", reset_password=True, password="another-long-passphrase", stdout=StringIO())
    admin.refresh_from_db()
    assert admin.check_password("another-long-passphrase")

    agent = User.objects.create_user(username="agent.smith", password="agent-password-1", role=Role.AGENT)
    with pytest.raises(CommandError, match="not an admin"):
        call_command("ensure_admin", username="agent.smith", reset_password=True, stdout=StringIO())
    agent.refresh_from_db()
    assert agent.check_password("agent-password-1")
    with pytest.raises(CommandError, match="no user"):
        call_command("ensure_admin", username="nobody", reset_password=True, stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("ensure_admin", reset_password=True, password="123", stdout=StringIO())
    admin.refresh_from_db()
    assert admin.check_password("another-long-passphrase")
