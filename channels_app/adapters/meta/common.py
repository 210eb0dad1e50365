"""Shared pieces of the Meta adapter: collecting a batched delivery, and explaining Graph API errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from channels_app.adapters.base import AdapterError, Ignored
from channels_app.adapters.payloads import get_dict, get_str
from channels_app.normalized import ParsedItem

logger = logging.getLogger(__name__)

# Graph API error codes that mean "try again later": throttling and transient platform trouble.
# https://developers.facebook.com/docs/graph-api/guides/error-handling and the WhatsApp Cloud API error
# code table (130429 throughput, 131056 pair rate limit, 131016/133004 service unavailable, ...).
TEMPORARY_CODES = {1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131000, 131016, 131056, 133004}

# Codes an agent needs explained in words rather than by number.
EXPLAINED_CODES = {
    131047: "more than 24 hours have passed since the customer last wrote; only an approved template "
    "message can reach them until they write again",
    131026: "the recipient cannot receive this message (not on WhatsApp, or an outdated app)",
    131051: "WhatsApp does not support this message type",
    132001: "the template does not exist in this language or is not approved",
    190: "the access token is invalid or has expired; reconnect the channel",
    200: "the app lacks permission to send from this account",
    551: "this person is not available right now",
}
# Messenger and Instagram report the 24-hour standard messaging window as code 10 with this subcode.
WINDOW_SUBCODES = {2018278, 2534022}


def describe_error(error: dict[str, Any]) -> str:
    """One line an agent can act on, from a Graph API `error` object or a WhatsApp `errors[]` item."""
    code = get_str(error, "code")
    title = get_str(error, "title") or get_str(error, "message")
    details = get_str(get_dict(error, "error_data"), "details")
    subcode = get_str(error, "error_subcode")
    explained = EXPLAINED_CODES.get(int(code)) if code.isdigit() else None
    if code == "10" and subcode.isdigit() and int(subcode) in WINDOW_SUBCODES:
        explained = (
            "the 24-hour messaging window has closed; the customer has to write again before "
            "a regular reply can be sent"
        )
    parts = [explained or title or "unknown error"]
    if explained and title:
        parts.append(f"({title})")
    if details and details not in parts[0]:
        parts.append(f"— {details}")
    suffix = f" [Meta error {code}{'/' + subcode if subcode else ''}]" if code else ""
    return " ".join(parts) + suffix


def is_temporary(error: dict[str, Any], http_status: int) -> bool:
    if http_status == 429 or http_status >= 500 or error.get("is_transient") is True:
        return True
    code = get_str(error, "code")
    return code.isdigit() and int(code) in TEMPORARY_CODES


@dataclass
class Collected:
    """What one batched delivery yielded. Meta packs unrelated events together, so one bad event must
    neither sink the good ones nor be dropped without a trace."""

    items: list[ParsedItem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def ignore(self, reason: str) -> None:
        self.ignored.append(reason)

    def error(self, reason: str) -> None:
        self.errors.append(reason)

    def add(self, build: Callable[[], ParsedItem | str]) -> None:
        """Run one item's parser: an item is kept, a string is a reason to ignore, an error is noted."""
        try:
            item = build()
        except AdapterError as exc:
            self.errors.append(str(exc))
            return
        if isinstance(item, str):
            self.ignored.append(item)
        else:
            self.items.append(item)

    def result(self) -> list[ParsedItem]:
        if self.items:
            if self.errors:
                # The valid part is stored; the raw body stays on the event for anyone chasing the rest.
                logger.warning("meta delivery partly unparseable: %s", "; ".join(self.errors)[:1000])
            return self.items
        if self.errors:
            raise AdapterError("; ".join(_unique(self.errors))[:1500], permanent=True)
        if self.ignored:
            raise Ignored("; ".join(_unique(self.ignored))[:1500])
        raise AdapterError("delivery has no entries", permanent=True)


def _unique(reasons: list[str]) -> list[str]:
    return list(dict.fromkeys(reasons))
