"""Connecting a channel proves it works against the provider (a local stub speaking its wire format),
its page shows its health, and the addresses it hands out start with the address actually served."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels_app.connect_checks import Connection
from channels_app.models import Channel, InboundEvent, InboundStatus, OutboundMessage, OutboundStatus
from channels_app.services import do_create_channel
from cxm.config import load_config
from surveys.links import share_url
from tests.pipeline import fixture_bytes, post_webhook
from tests.stubs.providers import meta_graph, telegram_bot, twilio_account
from tests.surveys import factories

pytestmark = pytest.mark.django_db
PUBLIC = "https://cx.example.com"
BOT_TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
WA_TOKEN = "EAAGwaValidAccessTokenForTests"
PHONE_NUMBER_ID = "110384756291047"


@pytest.fixture
def public(settings):
    """A production-like install: PUBLIC_BASE_URL set in the environment."""
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.PUBLIC_BASE_URL_EXPLICIT = True


@pytest.fixture
def development(settings):
    """A development server started without PUBLIC_BASE_URL: the default says port 8000."""
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    settings.PUBLIC_BASE_URL_EXPLICIT = False


def connect(client, kind: str, **fields: str):
    data = {"name": f"{kind} channel", "is_active": "on", **fields}
    return client.post(f"{reverse('channel_create')}?kind={kind}", data)


def page_of(client, channel: Channel, **headers: str) -> str:
    return client.get(reverse("channel_edit", args=[channel.pk]), **headers).content.decode()


# --- Telegram ----------------------------------------------------------------------------------------


def test_telegram_connect_checks_the_token_then_sets_the_webhook_with_a_secret(
    admin_client_, provider_stub, public, client
):
    stub = provider_stub("telegram")
    telegram_bot(stub, token=BOT_TOKEN)

    response = connect(admin_client_, "telegram", cred_bot_token=BOT_TOKEN)

    assert response.status_code == 302
    channel = Channel.objects.get()
    assert [r.path for r in stub.requests] == [f"/bot{BOT_TOKEN}/getMe", f"/bot{BOT_TOKEN}/setWebhook"]
    webhook = stub.requests[1].json()
    secret = channel.secret("webhook_secret")
    assert len(secret) >= 32
    assert webhook == {
        "url": f"{PUBLIC}/webhooks/telegram/{channel.pk}/",
        "secret_token": secret,
        "allowed_updates": ["message", "edited_message", "callback_query"],
    }
    assert channel.is_active
    state = Connection.of(channel)
    assert (state.status, state.account, state.webhook_url) == (
        "connected",
        "@acme_support_bot",
        webhook["url"],
    )
    page = page_of(admin_client_, channel)
    assert 'data-status="connected"' in page and "@acme_support_bot" in page
    assert 'data-testid="https-warning"' not in page

    # The secret Telegram was given is the one deliveries are checked against.
    update = fixture_bytes("telegram", "message__text.json")
    ok = post_webhook(
        client,
        "telegram",
        channel.pk,
        update,
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=secret,
    )
    forged = post_webhook(
        client,
        "telegram",
        channel.pk,
        update,
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="not-the-secret",
    )
    assert (ok.status_code, forged.status_code) == (200, 403)


def test_telegram_bad_token_saves_the_channel_switched_off_with_telegrams_reason(
    admin_client_, provider_stub, public
):
    stub = provider_stub("telegram")
    telegram_bot(stub, token=BOT_TOKEN)

    connect(admin_client_, "telegram", cred_bot_token="7000000001:wrong")

    channel = Channel.objects.get()
    assert not channel.is_active
    assert [r.path.rsplit("/", 1)[1] for r in stub.requests] == ["getMe"]  # no webhook for a bad token
    state = Connection.of(channel)
    assert state.failed and "Unauthorized" in state.error and "wrong" not in state.error
    page = page_of(admin_client_, channel)
    assert 'data-status="failed"' in page and "Not connected" in page and "Unauthorized" in page
    assert 'data-testid="check-again"' in page
    list_page = admin_client_.get(reverse("channel_list")).content.decode()
    assert "Not connected" in list_page

    # Re-keying with the right token proves it again and switches the channel back on.
    admin_client_.post(
        reverse("channel_edit", args=[channel.pk]),
        {"name": channel.name, "is_active": "on", "cred_bot_token": BOT_TOKEN},
    )
    channel.refresh_from_db()
    assert channel.is_active and Connection.of(channel).connected
    assert stub.requests[-1].path == f"/bot{BOT_TOKEN}/setWebhook"


def test_check_again_runs_the_check_and_only_on_post(admin_client_, agent_client, provider_stub, public):
    stub = provider_stub("telegram")
    channel = do_create_channel(kind="telegram", name="Bot", credentials={"bot_token": BOT_TOKEN})
    url = reverse("channel_check", args=[channel.pk])
    assert agent_client.post(url).status_code == 403
    assert admin_client_.get(url).status_code == 405

    admin_client_.post(url)  # Telegram does not know the bot yet
    channel.refresh_from_db()
    assert not channel.is_active and Connection.of(channel).failed

    telegram_bot(stub, token=BOT_TOKEN)
    response = admin_client_.post(url, follow=True)
    channel.refresh_from_db()
    assert channel.is_active and Connection.of(channel).connected
    assert "The channel is connected." in response.content.decode()


def test_a_channel_switched_off_by_an_admin_stays_off_after_a_successful_check(admin_client_, provider_stub):
    telegram_bot(provider_stub("telegram"), token=BOT_TOKEN)
    channel = do_create_channel(kind="telegram", name="Bot", credentials={"bot_token": BOT_TOKEN})
    Channel.objects.filter(pk=channel.pk).update(is_active=False)
    admin_client_.post(reverse("channel_check", args=[channel.pk]))
    channel.refresh_from_db()
    assert Connection.of(channel).connected and not channel.is_active


# --- Twilio and Meta ---------------------------------------------------------------------------------


def test_twilio_401_leaves_the_sms_channel_not_connected(admin_client_, provider_stub):
    stub = provider_stub("twilio")
    twilio_account(stub, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)

    connect(admin_client_, "sms", cred_account_sid=ACCOUNT_SID, cred_auth_token="f" * 32)

    channel = Channel.objects.get()
    (request,) = stub.requests
    assert (request.method, request.path) == ("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json")
    assert not channel.is_active
    state = Connection.of(channel)
    assert state.failed and "Authenticate" in state.error and "20003" in state.error
    assert "f" * 32 not in state.error


def test_twilio_credentials_that_work_connect_the_channel(admin_client_, provider_stub):
    twilio_account(provider_stub("twilio"), account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    connect(admin_client_, "sms", cred_account_sid=ACCOUNT_SID, cred_auth_token=AUTH_TOKEN)
    channel = Channel.objects.get()
    assert channel.is_active
    assert Connection.of(channel).account == "Acme Support"


def test_meta_190_leaves_the_whatsapp_channel_not_connected(admin_client_, provider_stub):
    stub = provider_stub("meta")
    meta_graph(stub, token=WA_TOKEN)

    connect(
        admin_client_,
        "whatsapp",
        conf_provider="meta",
        conf_phone_number_id=PHONE_NUMBER_ID,
        cred_access_token="EAAGexpiredToken",
    )

    channel = Channel.objects.get()
    (request,) = stub.requests
    assert request.path == f"/{PHONE_NUMBER_ID}?fields=display_phone_number,verified_name"
    assert request.headers["Authorization"] == "Bearer EAAGexpiredToken"
    assert not channel.is_active
    state = Connection.of(channel)
    assert state.failed and "[Meta error 190]" in state.error and "invalid or has expired" in state.error
    assert "invalid or has expired" in page_of(admin_client_, channel)


def test_meta_token_that_works_connects_whatsapp_and_names_the_number(admin_client_, provider_stub):
    meta_graph(provider_stub("meta"), token=WA_TOKEN)
    connect(
        admin_client_,
        "whatsapp",
        conf_provider="meta",
        conf_phone_number_id=PHONE_NUMBER_ID,
        cred_access_token=WA_TOKEN,
    )
    channel = Channel.objects.get()
    assert channel.is_active
    assert Connection.of(channel).account == "Acme Sklep (+48 22 123 45 67)"


def test_messenger_token_of_another_page_is_refused(admin_client_, provider_stub):
    meta_graph(provider_stub("meta"), token=WA_TOKEN)
    connect(admin_client_, "messenger", conf_page_id="999", cred_page_access_token=WA_TOKEN)
    channel = Channel.objects.get()
    assert not channel.is_active
    assert "not to page 999" in Connection.of(channel).error


def test_missing_credentials_fail_without_calling_the_provider(admin_client_, provider_stub):
    stub = provider_stub("twilio")
    connect(admin_client_, "sms", cred_account_sid=ACCOUNT_SID)
    channel = Channel.objects.get()
    assert stub.requests == []
    assert not channel.is_active and "Auth token" in Connection.of(channel).error


def test_kinds_without_a_provider_check_are_simply_saved(admin_client_):
    connect(admin_client_, "email")
    channel = Channel.objects.get()
    assert channel.is_active and "connection" not in channel.config


# --- Health --------------------------------------------------------------------------------------------


def _traffic(channel: Channel, *, failed_reason: str = "") -> None:
    now = timezone.now()
    InboundEvent.objects.create(
        channel=channel, provider="telegram", dedup_key=f"ok-{channel.pk}", body=b"{}", status="done"
    )
    if failed_reason:
        InboundEvent.objects.create(
            channel=channel,
            provider="telegram",
            dedup_key=f"bad-{channel.pk}",
            body=b"{}",
            status=InboundStatus.FAILED,
            error=failed_reason,
        )
    OutboundMessage.objects.create(
        channel=channel, recipient="1", status=OutboundStatus.DELIVERED, status_at=now
    )
    OutboundMessage.objects.create(
        channel=channel,
        recipient="1",
        status=OutboundStatus.FAILED,
        status_at=now - timezone.timedelta(hours=2),
        error="an older send failure",
    )


def test_channel_page_shows_last_inbound_last_send_and_the_latest_error(admin_client_):
    channel = do_create_channel(kind="telegram", name="Bot", credentials={"bot_token": BOT_TOKEN})
    page = page_of(admin_client_, channel)
    assert 'data-testid="health-last-inbound"><span class="muted">never' in page

    _traffic(channel, failed_reason="unsupported update type(s): business_message")

    page = page_of(admin_client_, channel)
    inbound_at = InboundEvent.objects.filter(channel=channel).latest("pk").received_at
    assert f'data-testid="health-last-inbound"><time datetime="{inbound_at.isoformat()}' in page
    assert 'data-testid="health-last-sent"><time' in page
    # The inbound failure is newer than the send failure, so it is the one shown.
    assert "An incoming event could not be read:" in page
    assert "unsupported update type(s): business_message" in page
    assert "an older send failure" not in page


def test_send_failure_shows_when_it_is_the_latest(admin_client_):
    channel = do_create_channel(kind="telegram", name="Bot", credentials={"bot_token": BOT_TOKEN})
    _traffic(channel)
    page = page_of(admin_client_, channel)
    assert "A message could not be sent:" in page and "an older send failure" in page


def test_channel_list_reads_health_in_a_bounded_number_of_queries(admin_client_):
    def list_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = admin_client_.get(reverse("channel_list"))
        assert response.status_code == 200
        return len(queries)

    first = do_create_channel(kind="telegram", name="Bot 0", credentials={"bot_token": BOT_TOKEN})
    _traffic(first, failed_reason="broken")
    one = list_queries()
    for n in range(1, 6):
        _traffic(do_create_channel(kind="telegram", name=f"Bot {n}"), failed_reason=f"broken {n}")
    assert list_queries() == one
    page = admin_client_.get(reverse("channel_list")).content.decode()
    assert page.count('class="channel-health-line channel-health-line--error"') == 6


# --- Addresses built from the address served ---------------------------------------------------------


def test_development_server_on_another_port_shows_that_port(admin_client_, development, provider_stub):
    """Serving on 127.0.0.1:8100 without PUBLIC_BASE_URL used to hand out :8000 addresses."""
    stub = provider_stub("telegram")
    telegram_bot(stub, token=BOT_TOKEN)
    served = {"HTTP_HOST": "127.0.0.1:8100"}
    admin_client_.post(
        f"{reverse('channel_create')}?kind=telegram",
        {"name": "Bot", "is_active": "on", "cred_bot_token": BOT_TOKEN},
        **served,
    )
    channel = Channel.objects.get()
    expected = f"http://127.0.0.1:8100/webhooks/telegram/{channel.pk}/"
    assert stub.requests[-1].json()["url"] == expected

    page = page_of(admin_client_, channel, **served)
    assert f'data-testid="webhook-url">{expected}</code>' in page
    assert ":8000" not in page
    assert 'data-testid="https-warning"' in page  # Telegram will not deliver to plain http

    survey = factories.survey(public_key="k8100")
    widget = admin_client_.get(reverse("survey_widget_settings", args=[survey.pk]), **served)
    assert 'src="http://127.0.0.1:8100/s/w/widget.js"' in widget.content.decode()
    qr = admin_client_.get(reverse("survey_public:share_qr", args=["k8100"]), **served)
    assert "http://127.0.0.1:8100/s/l/k8100/" in qr.content.decode()


def test_webchat_snippet_uses_the_served_address(admin_client_, development):
    chat = do_create_channel(kind="webchat", name="Shop chat")
    page = page_of(admin_client_, chat, HTTP_HOST="127.0.0.1:8100")
    assert '&lt;script src="http://127.0.0.1:8100/widget/chat.js" data-channel' in page


def test_configured_public_address_wins_over_the_request(admin_client_, public):
    chat = do_create_channel(kind="webchat", name="Shop chat")
    bot = do_create_channel(kind="telegram", name="Bot", credentials={"bot_token": BOT_TOKEN})
    served = {"HTTP_HOST": "127.0.0.1:8100"}
    assert f"{PUBLIC}/widget/chat.js" in page_of(admin_client_, chat, **served)
    page = page_of(admin_client_, bot, **served)
    assert f"{PUBLIC}/webhooks/telegram/{bot.pk}/" in page and "8100" not in page
    survey = factories.survey(public_key="kpublic")
    widget = admin_client_.get(reverse("survey_widget_settings", args=[survey.pk]), **served)
    assert f'src="{PUBLIC}/s/w/widget.js"' in widget.content.decode()
    assert share_url(survey) == f"{PUBLIC}/s/l/kpublic/"  # mail and messages: always the public one


def test_config_says_whether_the_public_address_was_set():
    assert load_config({}).public_base_url_explicit is False
    assert load_config({"PUBLIC_BASE_URL": PUBLIC}).public_base_url_explicit is True
