"""Roles decide what each user can open; anonymous visitors are sent to the login page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from accounts.roles import Role
from channels_app.models import Channel
from channels_app.services import do_create_channel

PAGES = [
    "home",
    "inbox",
    "customer_list",
    "survey_list",
    "dashboards",
    "settings",
    "channel_list",
    "channel_create",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_anonymous_users_are_redirected_to_login(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.AGENT, {"home", "inbox", "customer_list", "survey_list"}),
        (Role.MANAGER, {"home", "inbox", "customer_list", "survey_list", "dashboards"}),
        (Role.ADMIN, set(PAGES)),
    ],
)
def test_each_role_opens_exactly_its_pages(make_user, client, role, allowed):
    client.force_login(make_user(role))
    for name in PAGES:
        status = client.get(reverse(name)).status_code
        assert status == (200 if name in allowed else 403), (role, name, status)


def test_navigation_shows_only_what_the_role_may_open(agent_client, manager_client):
    agent_page = agent_client.get(reverse("home")).content.decode()
    assert 'data-nav="inbox"' in agent_page
    assert 'data-nav="settings"' not in agent_page
    assert 'data-nav="dashboards"' not in agent_page
    manager_page = manager_client.get(reverse("home")).content.decode()
    assert 'data-nav="dashboards"' in manager_page
    assert 'data-nav="settings"' not in manager_page


def test_agent_cannot_create_or_change_channels(agent_client):
    channel = do_create_channel(
        kind="telegram", name="Bot", credentials={"bot_token": "123456:ABCDEFGHIJKLMNOP"}
    )
    response = agent_client.post(f"{reverse('channel_create')}?kind=sms", {"name": "Sneaky", "kind": "sms"})
    assert response.status_code == 403
    response = agent_client.post(reverse("channel_edit", args=[channel.pk]), {"name": "Renamed"})
    assert response.status_code == 403
    assert list(Channel.objects.values_list("name", flat=True)) == ["Bot"]


def test_superuser_without_role_is_an_admin(make_user, client):
    user = make_user(Role.AGENT)
    user.is_superuser = True
    user.save()
    client.force_login(user)
    assert client.get(reverse("settings")).status_code == 200


def test_deactivated_user_loses_access(agent, agent_client):
    agent.is_active = False
    agent.save()
    assert agent_client.get(reverse("inbox")).status_code == 302


def test_admin_connects_a_channel_and_the_secret_is_never_shown(admin_client_):
    secret = "twilio-auth-token-0123456789abcdef"
    response = admin_client_.post(
        f"{reverse('channel_create')}?kind=sms",
        {
            "name": "Support SMS",
            "address": "+48221234567",
            "is_active": "on",
            "cred_account_sid": "AC123456789012",
            "cred_auth_token": secret,
        },
    )
    assert response.status_code == 302, response.content
    channel = Channel.objects.get(name="Support SMS")
    assert channel.secret("auth_token") == secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM channels_app_channel WHERE id = %s", [channel.pk])
        stored = cursor.fetchone()[0]
    assert secret not in stored and "auth_token" not in stored

    page = admin_client_.get(reverse("channel_edit", args=[channel.pk])).content.decode()
    assert secret not in page
    assert "••••••cdef" in page
    assert f"/webhooks/twilio/{channel.pk}/" in page


def test_blank_credential_inputs_keep_the_stored_secret(admin_client_):
    channel = do_create_channel(
        kind="sms", name="SMS", credentials={"auth_token": "original-secret-value-123"}
    )
    response = admin_client_.post(
        reverse("channel_edit", args=[channel.pk]),
        {
            "name": "SMS renamed",
            "address": "",
            "is_active": "on",
            "cred_auth_token": "",
            "cred_account_sid": "AC1",
        },
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "SMS renamed"
    assert channel.credentials == {"auth_token": "original-secret-value-123", "account_sid": "AC1"}


def test_env_referenced_credentials_resolve_at_use_time(db, monkeypatch):
    channel = do_create_channel(
        kind="telegram", name="Bot", credentials={"bot_token": "env:CXM_TEST_BOT_TOKEN"}
    )
    monkeypatch.setenv("CXM_TEST_BOT_TOKEN", "999:resolved")
    assert Channel.objects.get(pk=channel.pk).secret("bot_token") == "999:resolved"
    assert channel.masked_credentials() == {"bot_token": "env:CXM_TEST_BOT_TOKEN"}


def test_agents_see_only_their_teams_conversations(make_user, client):
    from django.utils import timezone

    from accounts.services import do_create_team
    from profiles.models import Customer
    from tickets.models import Conversation

    mine, other = do_create_team(name="Mine"), do_create_team(name="Other")
    ours = do_create_channel(kind="email", name="Ours", teams=[mine])
    theirs = do_create_channel(kind="email", name="Theirs", teams=[other])
    customer = Customer.objects.create(name="Ada")
    now = timezone.now()
    Conversation.objects.create(
        customer=customer, channel=ours, subject="Visible subject", created_at=now, last_activity_at=now
    )
    Conversation.objects.create(
        customer=customer, channel=theirs, subject="Hidden subject", created_at=now, last_activity_at=now
    )
    client.force_login(make_user(Role.AGENT, teams=[mine]))
    page = client.get(reverse("inbox")).content.decode()
    assert "Visible subject" in page
    assert "Hidden subject" not in page
    client.force_login(make_user(Role.MANAGER))
    page = client.get(reverse("inbox")).content.decode()
    assert "Visible subject" in page and "Hidden subject" in page


def test_channel_settings_are_edited_per_kind_and_validated(admin_client_):
    chat = do_create_channel(kind="webchat", name="Shop chat", config={"imap_state": "kept"})
    url = reverse("channel_edit", args=[chat.pk])
    page = admin_client_.get(url).content.decode()
    assert 'name="conf_allowed_origins"' in page and 'name="conf_provider"' not in page

    bad = admin_client_.post(
        url, {"name": "Shop chat", "is_active": "on", "conf_allowed_origins": "https://shop.example.com/cart"}
    )
    assert bad.status_code == 200
    assert "is not an origin such as" in bad.content.decode()

    response = admin_client_.post(
        url,
        {
            "name": "Shop chat",
            "is_active": "on",
            "conf_threading": "new",
            "conf_allowed_origins": "https://Shop.example.com\n\n  http://localhost:8000 ",
        },
    )
    assert response.status_code == 302
    chat.refresh_from_db()
    assert chat.config == {
        "imap_state": "kept",
        "threading": "new",
        "allowed_origins": ["https://shop.example.com", "http://localhost:8000"],
    }
    assert "https://shop.example.com\nhttp://localhost:8000" in admin_client_.get(url).content.decode()


def test_whatsapp_channel_can_run_on_twilio(admin_client_):
    response = admin_client_.post(
        f"{reverse('channel_create')}?kind=whatsapp",
        {"name": "WA", "is_active": "on", "conf_provider": "twilio", "conf_default_region": "pl"},
    )
    assert response.status_code == 302, response.content
    channel = Channel.objects.get(name="WA")
    assert channel.config["provider"] == "twilio" and channel.config["default_region"] == "PL"
    assert channel.webhook_url.endswith(f"/webhooks/twilio/{channel.pk}/")


def test_email_channel_settings_configure_smtp_and_imap(admin_client_):
    response = admin_client_.post(
        f"{reverse('channel_create')}?kind=email",
        {
            "name": "Support",
            "address": "support@shop.example",
            "is_active": "on",
            "conf_smtp_host": "smtp.shop.example",
            "conf_smtp_port": "465",
            "conf_smtp_security": "ssl",
            "conf_imap_host": "imap.shop.example",
            "conf_imap_folder": "",
        },
    )
    assert response.status_code == 302, response.content
    config = Channel.objects.get(name="Support").config
    assert config["smtp_port"] == 465 and config["smtp_security"] == "ssl"
    assert config["imap_host"] == "imap.shop.example" and config["imap_folder"] == "INBOX"


def test_what_the_role_grants_is_answered_without_queries(make_user, django_assert_num_queries):
    from django.contrib.auth.models import Permission

    from accounts import roles
    from accounts.models import User

    manager = User.objects.get(pk=make_user(Role.MANAGER).pk)  # fresh: no permission cache yet
    with django_assert_num_queries(0):
        assert manager.has_perm(roles.VIEW_ALL_CONVERSATIONS)
    # A permission given to the person rather than the role still counts, from the database.
    agent = make_user(Role.AGENT)
    agent.user_permissions.add(Permission.objects.get(codename="view_all_conversations"))
    assert User.objects.get(pk=agent.pk).has_perm(roles.VIEW_ALL_CONVERSATIONS)
