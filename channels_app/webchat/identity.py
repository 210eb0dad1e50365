"""Who a web chat visitor is: an anonymous visitor holding a token we issued, or a user the site vouches for.

Anonymous visitors get a random visitor id inside a token signed with the project's SECRET_KEY and bound
to one channel, so a token copied to another channel's widget is worthless. Signed visitors prove their
user id with ``userHash`` = hex HMAC-SHA256(identity secret, user id), computed on the customer's server;
their visitor id is derived from the user id, so their conversation follows them to every device.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.core import signing
from django.utils.crypto import salted_hmac

VISITOR_SALT = "cxm.webchat.visitor"
TOKEN_MAX_AGE_S = 400 * 24 * 3600  # about as long as browsers keep site data anyway
MAX_USER_ID_LENGTH = 255
# Visitor ids end up in channel-layer group names, which allow only ASCII letters, digits, "-", "_", ".".
VISITOR_ID_RE = re.compile(r"^[au][0-9a-f]{32}$")


@dataclass(frozen=True)
class Visitor:
    visitor_id: str
    # Set only when the user id was verified against the channel's identity secret.
    user_id: str = ""

    @property
    def verified(self) -> bool:
        return bool(self.user_id)


def new_anonymous_id() -> str:
    return "a" + secrets.token_hex(16)


def signed_visitor_id(channel_id: int, user_id: str) -> str:
    """Stable per channel and user; keyed with SECRET_KEY so nobody can compute another user's id."""
    digest = salted_hmac(VISITOR_SALT, f"{channel_id}:{user_id}", algorithm="sha256").hexdigest()
    return "u" + digest[:32]


def is_visitor_id(value: str) -> bool:
    return bool(VISITOR_ID_RE.match(value))


def issue_token(channel_id: int, visitor_id: str) -> str:
    return signing.dumps({"c": channel_id, "v": visitor_id}, salt=VISITOR_SALT, compress=False)


def read_token(token: object, channel_id: int) -> str | None:
    """The anonymous visitor id in a token we issued for this channel, or None for anything else."""
    if not isinstance(token, str) or not token or len(token) > 500:
        return None
    try:
        data = signing.loads(token, salt=VISITOR_SALT, max_age=TOKEN_MAX_AGE_S)
    except signing.BadSignature:  # also covers expired tokens
        return None
    if not isinstance(data, dict) or data.get("c") != channel_id:
        return None
    visitor_id = data.get("v")
    if not isinstance(visitor_id, str) or not visitor_id.startswith("a") or not is_visitor_id(visitor_id):
        return None
    return visitor_id


def user_hash(secret: str, user_id: str) -> str:
    """What the customer's server computes for a signed-in user (documented on the channel page)."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def check_user_hash(secret: str, user_id: str, given: str) -> bool:
    if not secret or not user_id or len(user_id) > MAX_USER_ID_LENGTH:
        return False
    return hmac.compare_digest(user_hash(secret, user_id).encode(), given.strip().lower().encode())


def visitor_group(channel_id: int, visitor_id: str) -> str:
    """The channel-layer group every open socket of one visitor on one channel joins."""
    return f"webchat.{channel_id}.{visitor_id}"
