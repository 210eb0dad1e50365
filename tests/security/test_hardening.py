"""Hardening: CSP on every page, https in production, forwarded headers only from trusted proxies, and a
/healthz that tells anonymous callers nothing but the status."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from core.proxies import TrustedProxyMiddleware, client_address, forwarded_client, scope_client_address
from cxm.config import ConfigError, load_config
from surveys import public_rate

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCTION = {
    "CXM_ENV": "production",
    "SECRET_KEY": "x" * 64,
    "ALLOWED_HOSTS": "cx.example.com",
    "PUBLIC_BASE_URL": "https://cx.example.com",
    "DATABASE_URL": "postgres://cxm:pw@db:5432/cxm",
    "REDIS_URL": "redis://redis:6379/0",
}
PROXY = [ipaddress.ip_network("10.0.0.0/8")]
TOKEN = "monitoring-token-0123456789abcdef"


# --- Content-Security-Policy -----------------------------------------------------------------------


def _directives(header: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.django_db
def test_every_page_has_a_strict_script_policy_with_a_fresh_nonce(client, agent_client):
    first = client.get("/accounts/login/")
    second = client.get("/accounts/login/")
    policy = _directives(first["Content-Security-Policy"])
    assert policy["default-src"] == "default-src 'self'"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["base-uri"] == "base-uri 'self'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert "ws://testserver" in policy["connect-src"] and "wss://testserver" in policy["connect-src"]
    nonce = re.search(r"'nonce-([^']+)'", policy["script-src"]).group(1)
    assert nonce not in second["Content-Security-Policy"]

    page = agent_client.get("/inbox/")
    assert page.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", page["Content-Security-Policy"]).group(1)
    # The nonce reaches the templates: htmx's script tag carries it.
    assert f'nonce="{nonce}"'.encode() in page.content


@pytest.mark.django_db
def test_json_and_error_responses_carry_the_policy_too(client):
    assert "frame-ancestors 'none'" in client.get("/healthz")["Content-Security-Policy"]
    assert "default-src 'self'" in client.get("/no-such-page/")["Content-Security-Policy"]


def test_no_template_has_an_inline_script_or_event_handler():
    """Under the policy an inline script without our nonce, or an on*= attribute, silently stops working."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "nonce=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{template.relative_to(ROOT)}: {tag}")
        for handler in re.findall(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", text):
            offenders.append(f"{template.relative_to(ROOT)}: {handler[:80]}")
    assert offenders == []


def test_the_mail_frame_gets_a_sandboxed_policy():
    from core.csp import STRICT, strict_policy

    response = strict_policy(lambda request: HttpResponse("<p>mail</p>"))(RequestFactory().get("/"))
    assert response["Content-Security-Policy"] == STRICT
    assert "sandbox" in STRICT and "script-src" not in STRICT and "default-src 'none'" in STRICT


# --- Production refuses http -----------------------------------------------------------------------


def test_production_refuses_an_http_public_base_url():
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        load_config({**PRODUCTION, "PUBLIC_BASE_URL": "http://cx.example.com"})


def test_an_http_install_must_say_so_explicitly():
    config = load_config({**PRODUCTION, "PUBLIC_BASE_URL": "http://cx.lan", "CXM_ALLOW_HTTP": "true"})
    assert config.public_base_url == "http://cx.lan"


@pytest.mark.parametrize("value", ["10.0.0.0/33", "10.0.0.5/8", "proxy.local", "10.0.0.1,,10.0.0.2"])
def test_trusted_proxies_are_parsed_strictly(value):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_config({**PRODUCTION, "TRUSTED_PROXIES": value})


def test_trusted_proxies_and_healthz_token_load():
    config = load_config({**PRODUCTION, "TRUSTED_PROXIES": "10.0.0.0/8, ::1", "HEALTHZ_TOKEN": TOKEN})
    assert config.trusted_proxies == (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1"))
    assert config.healthz_token == TOKEN
    with pytest.raises(ConfigError, match="HEALTHZ_TOKEN"):
        load_config({**PRODUCTION, "HEALTHZ_TOKEN": "short"})


# --- Forwarded headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # not a proxy: its header is the client's invention
        ("10.0.0.2", "1.2.3.4", "1.2.3.4"),
        ("10.0.0.2", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the left entry was written by the client
        ("10.0.0.2", "1.2.3.4, 10.0.0.7", "1.2.3.4"),  # two proxies of ours
        ("10.0.0.2", "forged, 10.0.0.7", "10.0.0.7"),
        ("10.0.0.2", "1.2.3.4:5555", "1.2.3.4"),
        ("10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.2", None, "10.0.0.2"),
    ],
)
def test_forwarded_client_takes_the_right_most_untrusted_address(peer, forwarded_for, expected):
    assert forwarded_client(peer, forwarded_for, PROXY) == expected


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(settings):
    settings.TRUSTED_PROXIES = PROXY
    request = RequestFactory().get(
        "/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4", HTTP_X_FORWARDED_PROTO="https"
    )
    TrustedProxyMiddleware(lambda r: HttpResponse())(request)
    assert client_address(request) == "203.0.113.9"
    assert request.is_secure() is False


def test_forwarded_headers_from_a_trusted_proxy_are_believed(settings):
    settings.TRUSTED_PROXIES = PROXY
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4", HTTP_X_FORWARDED_PROTO="https"
    )
    TrustedProxyMiddleware(lambda r: HttpResponse())(request)
    assert client_address(request) == "1.2.3.4"
    assert request.META["REMOTE_ADDR"] == "1.2.3.4"
    assert request.is_secure() is True


def test_the_asgi_fast_paths_resolve_the_same_address(settings):
    settings.TRUSTED_PROXIES = PROXY
    scope = {"client": ("10.0.0.2", 5000), "headers": [(b"x-forwarded-for", b"1.2.3.4")]}
    assert scope_client_address(scope) == "1.2.3.4"
    assert scope_client_address({**scope, "client": ("203.0.113.9", 5000)}) == "203.0.113.9"


def test_survey_rate_limit_counts_each_client_behind_the_proxy(settings, monkeypatch):
    settings.TRUSTED_PROXIES = PROXY
    monkeypatch.setattr(public_rate, "get_redis", lambda: None)
    public_rate.reset_counts()
    factory = RequestFactory()

    def behind_proxy(client: str):
        return factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=client)

    assert [public_rate.check_public_rate(behind_proxy("1.1.1.1"), "t", 2) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    # Another customer behind the same proxy has a budget of their own...
    assert public_rate.check_public_rate(behind_proxy("2.2.2.2"), "t", 2)
    # ...and a client talking to us directly cannot pick a fresh one by forging the header.
    direct = [
        public_rate.check_public_rate(
            factory.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"9.9.9.{n}"), "t", 2
        )
        for n in range(3)
    ]
    assert direct == [True, True, False]
    public_rate.reset_counts()


# --- /healthz --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_healthz_shows_only_the_status(client):
    response = client.get("/healthz")
    assert response.status_code in (200, 503)
    assert response.json() == {"status": "ok" if response.status_code == 200 else "fail"}


@pytest.mark.django_db
def test_healthz_details_need_staff_or_the_token(client, settings, admin_client_, agent_client):
    settings.HEALTHZ_TOKEN = TOKEN
    assert "checks" in client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()
    assert "checks" not in client.get("/healthz", HTTP_AUTHORIZATION="Bearer wrong-token").json()
    assert "checks" in admin_client_.get("/healthz").json()
    assert "checks" not in agent_client.get("/healthz").json()
    settings.HEALTHZ_TOKEN = ""
    assert "checks" not in client.get("/healthz", HTTP_AUTHORIZATION="Bearer ").json()
