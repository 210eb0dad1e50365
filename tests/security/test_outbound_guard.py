"""One guard for server-side requests: media, API callbacks, IMAP, SMTP and provider calls reach only
public addresses (checked after DNS and after every redirect) unless OUTBOUND_ALLOWED_HOSTS names them."""

from __future__ import annotations

import socket

import pytest

from channels_app.adapters.base import AdapterError
from channels_app.email import smtp
from channels_app.email.imap import poll_mailbox
from channels_app.media import MediaRefused, check_url
from channels_app.models import OutboundMessage, OutboundStatus
from channels_app.outbound import do_queue_outbound, do_send
from channels_app.services import do_create_channel
from core import outbound_guard
from cxm.config import ConfigError, parse_outbound_hosts
from tests.stubs.server import StubServer
from tests.stubs.smtp import SmtpStub

SECRET_BODY = '{"status": "ok", "database": "postgresql", "internal_token": "s3cr3t-from-healthz"}'


@pytest.fixture(autouse=True)
def nothing_allowed(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ()


@pytest.fixture
def stub():
    server = StubServer().start()
    server.route("GET", "/healthz", lambda r: (200, SECRET_BODY.encode()))
    server.route("POST", "/healthz", lambda r: (403, SECRET_BODY.encode()))
    yield server
    server.stop()


@pytest.fixture
def fake_dns(monkeypatch):
    """Names the test controls, answered the way an attacker's DNS server would."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            family = lambda a: socket.AF_INET6 if ":" in a else socket.AF_INET  # noqa: E731
            return [(family(a), socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),  # carrier-grade NAT
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to refuse, not to bind
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("64:ff9b::7f00:1", "NAT64"),
        ("64:ff9b::808:808", "NAT64"),
        ("64:ff9b:1::a00:1", "NAT64"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 around 169.254.169.254
        ("2002:c0a8:101::", "private"),  # 6to4 around 192.168.1.1
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::7f00:1", "loopback"),  # IPv4-compatible
    ],
)
def test_internal_addresses_are_refused(address, reason):
    assert outbound_guard.address_refusal(address) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2002:808:808::1"])
def test_public_addresses_pass(address):
    assert outbound_guard.address_refusal(address) is None


@pytest.mark.parametrize(
    "url", ["http://[64:ff9b::7f00:1]/x", "http://[2002:7f00:1::]/x", "http://[2002:a00:1::]/x"]
)
def test_media_refuses_nat64_and_6to4_around_internal_addresses(url):
    host = url.split("[")[1].split("]")[0]
    with pytest.raises(MediaRefused, match="private address"):
        check_url(url, (host,))


def test_names_are_checked_after_resolution(fake_dns, stub):
    fake_dns["shop-callbacks.example"] = ["93.184.216.34", "127.0.0.1"]  # one bad answer is enough
    port = stub.url.rsplit(":", 1)[1]
    with outbound_guard.http_client() as client, pytest.raises(outbound_guard.OutboundRefused) as refused:
        client.get(f"http://shop-callbacks.example:{port}/healthz")
    assert "127.0.0.1" in str(refused.value)
    assert stub.requests == []


def test_the_connection_goes_to_the_checked_address(fake_dns, stub, settings):
    # Listed by name, so its private answer is allowed: and the request reaches that very address.
    settings.OUTBOUND_ALLOWED_HOSTS = ("relay.corp.example",)
    fake_dns["relay.corp.example"] = ["127.0.0.1"]
    port = stub.url.rsplit(":", 1)[1]
    with outbound_guard.http_client() as client:
        response = client.get(f"http://relay.corp.example:{port}/healthz")
    assert response.status_code == 200
    assert stub.requests[0].headers["Host"] == f"relay.corp.example:{port}"


def test_every_redirect_is_checked_again(fake_dns, stub, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ("hooks.partner.example",)
    fake_dns["hooks.partner.example"] = ["127.0.0.1"]
    fake_dns["rebound.attacker.example"] = ["127.0.0.1"]
    port = stub.url.rsplit(":", 1)[1]
    stub.route(
        "GET", "/go", lambda r: (302, b"", {"Location": f"http://rebound.attacker.example:{port}/healthz"})
    )
    with (
        outbound_guard.http_client(follow_redirects=True) as client,
        pytest.raises(outbound_guard.OutboundRefused),
    ):
        client.get(f"http://hooks.partner.example:{port}/go")
    assert [r.path for r in stub.requests] == ["/go"]


@pytest.mark.django_db
def test_api_callback_to_loopback_is_refused_and_shows_nothing_of_the_answer(stub):
    channel = do_create_channel(
        kind="api",
        name="Shop app",
        credentials={"signing_secret": "api-signing-secret-0123456789"},
        config={"callback_url": f"{stub.url}/healthz"},
    )
    outbound = do_queue_outbound(channel=channel, recipient="user-42", payload={"text": "Hello"})
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.FAILED
    outbound.refresh_from_db()
    assert "private address (127.0.0.1)" in outbound.error
    assert "s3cr3t" not in outbound.error and "postgresql" not in outbound.error
    assert stub.requests == []


@pytest.mark.django_db
def test_an_allowed_callback_that_fails_does_not_show_its_answer_to_agents(stub, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ("127.0.0.1",)
    channel = do_create_channel(
        kind="api",
        name="Shop app",
        credentials={"signing_secret": "api-signing-secret-0123456789"},
        config={"callback_url": f"{stub.url}/healthz"},
    )
    outbound = do_queue_outbound(channel=channel, recipient="user-42", payload={"text": "Hello"})
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.FAILED
    outbound = OutboundMessage.objects.get(pk=outbound.pk)
    assert len(stub.requests) == 1
    assert "403" in outbound.error
    assert "s3cr3t" not in outbound.error and "postgresql" not in outbound.error


def test_smtp_to_a_loopback_server_is_refused_before_connecting():
    server = SmtpStub().start()
    try:
        message = smtp.build_reply(
            from_address="support@shop.example", from_name="", to="a@b.example", subject="Hi", text="Hi"
        )
        config = {"smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_security": "none"}
        with pytest.raises(AdapterError) as refused:
            smtp.send(message, config=config, password="")
        assert refused.value.permanent
        assert "private address (127.0.0.1)" in str(refused.value)
        assert server.received == []
    finally:
        server.stop()


def test_smtp_relay_named_in_the_allow_list_is_used(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ("127.0.0.1",)
    server = SmtpStub().start()
    try:
        message = smtp.build_reply(
            from_address="support@shop.example", from_name="", to="a@b.example", subject="Hi", text="Hi"
        )
        config = {"smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_security": "none"}
        smtp.send(message, config=config, password="")
        assert len(server.received) == 1
    finally:
        server.stop()


@pytest.mark.django_db
def test_imap_to_a_loopback_server_is_refused():
    channel = do_create_channel(
        kind="email",
        name="Mailbox",
        address="support@shop.example",
        config={"imap_host": "localhost", "imap_port": 1, "imap_security": "none"},
        credentials={"imap_password": "pw"},
    )
    with pytest.raises(AdapterError) as refused:
        poll_mailbox(channel)
    assert refused.value.permanent
    assert "private address" in str(refused.value)


def test_the_allow_list_is_parsed_strictly():
    env = {"OUTBOUND_ALLOWED_HOSTS": "smtp.internal, .corp.example, 10.20.0.0/16, fd00::5, [::1]"}
    assert parse_outbound_hosts(env, "OUTBOUND_ALLOWED_HOSTS") == (
        "smtp.internal",
        ".corp.example",
        "10.20.0.0/16",
        "fd00::5/128",
        "::1/128",
    )
    assert parse_outbound_hosts({}, "OUTBOUND_ALLOWED_HOSTS") == ()
    for bad in ("http://relay.internal", "10.0.0.0/33", "relay internal", "smtp.internal,,x", "10.0.0.1/8"):
        with pytest.raises(ConfigError, match="OUTBOUND_ALLOWED_HOSTS"):
            parse_outbound_hosts({"OUTBOUND_ALLOWED_HOSTS": bad}, "OUTBOUND_ALLOWED_HOSTS")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "provider", "credentials"),
    [
        ("telegram", "telegram", {"bot_token": "7000000003:AAGuardTest"}),
        ("sms", "twilio", {"account_sid": "AC0123456789", "auth_token": "twilio-auth-token-0123"}),
        ("messenger", "meta", {"page_access_token": "meta-page-token-0123456789"}),
    ],
)
def test_connection_checks_go_through_the_guard_too(stub, settings, kind, provider, credentials):
    # A provider base URL pointed at an internal address (a typo, or a hostile staging value) is not
    # reached: the check fails with the guard's reason and the stub sees no request.
    from channels_app.connect_checks import do_check_connection

    settings.PROVIDER_BASE_URLS = {**settings.PROVIDER_BASE_URLS, provider: stub.url}
    channel = do_create_channel(kind=kind, name="Guarded", credentials=credentials, config={"page_id": "1"})
    connection = do_check_connection(channel=channel, base_url="https://cx.example.com")
    assert connection.failed and "private address (127.0.0.1)" in connection.error, connection
    assert stub.requests == []
