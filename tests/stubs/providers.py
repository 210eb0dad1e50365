"""Stub routes that answer account and setup calls the way the providers do, credentials included.

Each stub checks the credential it is given against the one it was told is valid, so a wrong token is
refused by the stub exactly as the provider refuses it (shapes from the api/ folder of the adapter's
fixtures, channels_app/adapters/<provider>/fixtures/api/).
"""

from __future__ import annotations

import base64
import json

from tests.fixture_loader import load_fixture
from tests.stubs.server import RecordedRequest, StubServer


def api_fixture(provider: str, name: str) -> dict:
    return json.loads(load_fixture(provider, f"api/{name}"))


def telegram_bot(stub: StubServer, *, token: str) -> None:
    """getMe and setWebhook for one bot token; any other token gets Telegram's 401."""

    def answer(name: str):
        def respond(request: RecordedRequest) -> tuple:
            given = request.path.split("/")[1].removeprefix("bot")
            if given != token:
                return 401, api_fixture("telegram", "error__unauthorized.json")
            return 200, api_fixture("telegram", name)

        return respond

    stub.route("POST", r"/bot[^/]+/getMe", answer("getMe__ok.json"))
    stub.route("POST", r"/bot[^/]+/setWebhook", answer("setWebhook__ok.json"))


def twilio_account(stub: StubServer, *, account_sid: str, auth_token: str) -> None:
    """GET /2010-04-01/Accounts/{Sid}.json behind HTTP basic auth, as Twilio's REST API."""
    expected = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()

    def respond(request: RecordedRequest) -> tuple:
        if request.headers.get("Authorization") != expected:
            return 401, api_fixture("twilio", "error__20003_authenticate.json")
        account = api_fixture("twilio", "account__active.json")
        return 200, {**account, "sid": account_sid, "owner_account_sid": account_sid}

    stub.route("GET", r"/2010-04-01/Accounts/[^/]+\.json", respond)


def meta_graph(stub: StubServer, *, token: str) -> None:
    """Graph API node reads (a WhatsApp phone number id, /me of a page) for one access token."""

    def respond(request: RecordedRequest) -> tuple:
        if request.headers.get("Authorization") != f"Bearer {token}":
            return 401, api_fixture("meta", "error__190_invalid_token.json")
        node = request.path.split("?")[0].strip("/")
        if node == "me":
            return 200, api_fixture("meta", "me__page.json")
        return 200, {**api_fixture("meta", "phone_number__ok.json"), "id": node}

    stub.route("GET", r"/[^/]+", respond)
