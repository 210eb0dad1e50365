"""Proving a Twilio Account SID and auth token work: fetch the account they name.

Docs: https://www.twilio.com/docs/iam/api/account (GET /2010-04-01/Accounts/{Sid}.json, basic auth with
the SID and auth token; errors are {"code": 20003, "message": "Authenticate", "status": 401, ...}).
"""

from __future__ import annotations

from urllib.parse import quote

from channels_app.adapters.base import AdapterError
from channels_app.adapters.http import base_url, exchange
from channels_app.adapters.payloads import get_str


def fetch_account(account_sid: str, auth_token: str) -> str:
    """The account's friendly name; AdapterError with Twilio's code and message when refused."""
    response = exchange(
        "GET",
        f"{base_url('twilio')}/2010-04-01/Accounts/{quote(account_sid, safe='')}.json",
        provider="Twilio",
        auth=(account_sid, auth_token),
    )
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    if response.status_code >= 400:
        code = get_str(data, "code")
        message = get_str(data, "message") or response.text[:200]
        temporary = response.status_code == 429 or response.status_code >= 500
        raise AdapterError(
            f"Twilio refused ({response.status_code}): {message}"
            + (f" [Twilio error {code}]" if code else ""),
            permanent=not temporary,
        )
    status = get_str(data, "status")
    if status and status != "active":
        # Suspended and closed accounts still authenticate, but send nothing.
        raise AdapterError(f"the Twilio account is {status}", permanent=True)
    return get_str(data, "friendly_name") or get_str(data, "sid") or account_sid
