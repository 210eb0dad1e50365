"""The shape every provider adapter has, and the registry that maps a webhook provider to one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from channels_app.inbound_models import InboundEvent
    from channels_app.models import Channel
    from channels_app.normalized import ParsedItem
    from channels_app.outbound_models import OutboundMessage


class AdapterError(Exception):
    """Raised by adapters. Permanent errors are not retried; temporary ones are, with backoff."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


class Ignored(Exception):
    """A well-formed delivery we deliberately do not act on (a bot joined a group, a read receipt, ...)."""


class SignatureError(Exception):
    """The request does not carry a valid signature for this channel; nothing is stored."""

    # What the sender is told: the detail (the exception's message) only goes to the log.
    status = 403
    public_reason = "invalid signature"


@dataclass(frozen=True)
class MediaSource:
    """Where to download one attachment from, and with which credentials."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = None


class Adapter:
    provider: ClassVar[str]
    channel_kinds: ClassVar[tuple[str, ...]]
    # Provider request headers worth keeping with the raw body (for replay and audit).
    kept_headers: ClassVar[tuple[str, ...]] = ()
    # Hosts media may be downloaded from (exact names, or ".example.com" for any subdomain). The host of
    # the provider's configured base URL is always allowed too, so staging can point at a local stub.
    media_hosts: ClassVar[tuple[str, ...]] = ()

    def handshake(self, request: HttpRequest, channel: Channel) -> HttpResponse | None:
        """Answer a provider's GET verification handshake; None when the provider has none."""
        return None

    def verify(self, request: HttpRequest, channel: Channel) -> None:
        """Raise SignatureError unless the raw request is authentic for this channel."""
        raise NotImplementedError

    def dedup_key(self, request: HttpRequest) -> str:
        """What makes a redelivery of the same provider event recognisable. Defaults to the body hash."""
        return "sha256:" + hashlib.sha256(request.body).hexdigest()

    def stored_body(self, request: HttpRequest) -> tuple[bytes, str]:
        """What to keep of a verified request: (bytes, content type). Usually the raw body as it came;
        an adapter whose provider wraps the payload (an ESP's form around a MIME mail) may unwrap it."""
        return request.body, request.content_type or ""

    def acknowledge(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(status=200)

    def parse(self, event: InboundEvent, channel: Channel) -> list[ParsedItem]:
        """Turn a stored delivery into messages and status updates.

        Raise AdapterError(permanent=True) for input that can never be parsed, Ignored for deliveries
        that are valid but carry nothing to store.
        """
        raise NotImplementedError

    def resolve_media(self, reference: str, channel: Channel) -> MediaSource:
        """Turn the reference stored on an attachment (a URL or a provider file id) into a download.

        May call the provider's API (Telegram and WhatsApp hand out file ids, not URLs). Raise
        AdapterError: permanent when the reference can never be fetched.
        """
        return MediaSource(url=reference)

    def send(self, outbound: OutboundMessage, channel: Channel) -> str:
        """Deliver one outbound message; return the provider's message id or raise AdapterError."""
        raise NotImplementedError

    def check_connection(self, channel: Channel, *, webhook_url: str) -> str | None:
        """Prove the credentials work (and register the webhook where the provider's API does that).

        Returns how the provider names the account ("@shop_bot", "Acme (+48 22 123 45 67)"), or None
        when this provider has nothing to check. Raises AdapterError with the provider's own reason.
        """
        return None


_REGISTRY: dict[str, Adapter] = {}


def register(adapter_class: type[Adapter]) -> type[Adapter]:
    _REGISTRY[adapter_class.provider] = adapter_class()
    return adapter_class


def unregister(provider: str) -> None:
    """For tests that register an adapter of their own."""
    _REGISTRY.pop(provider, None)


def get_adapter(provider: str) -> Adapter | None:
    from channels_app import adapters as _  # noqa: F401 - importing the package registers the adapters

    return _REGISTRY.get(provider)
