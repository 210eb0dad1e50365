"""Channel kinds: one `KindSpec` per kind says everything the rest of the project needs to know about it.

Adding a kind is one `register_kind(KindSpec(...))` plus an adapter package (docs/adding-a-channel.md).
Every table keyed by kind or provider (credentials, settings fields, the identity a sender has, the
survey medium, outbound media limits, providers and their API base URLs, connection checks) is read from
the registry here, so none of them can forget a kind. The built-in kinds are in `builtin_kinds.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    # Stubs only: django-stubs-ext is a development dependency.
    from django_stubs_ext import StrOrPromise

    from channels_app.outbound_media import MediaRule
    from channels_app.settings_fields import SettingField

# A rule, or a function that builds it when the limits depend on settings read at run time.
MediaSpec: TypeAlias = "MediaRule | Callable[[], MediaRule] | None"

T = TypeVar("T")

# Surveys about a conversation on a kind that cannot carry one go out by mail.
FALLBACK_SURVEY_MEDIUM = "email"


class ChannelKind(models.TextChoices):
    """Names for the built-in kinds (code and old migrations use them); the registry is the authority."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")
    MESSENGER = "messenger", _("Messenger")
    INSTAGRAM = "instagram", _("Instagram")
    WEBCHAT = "webchat", _("Web chat")
    API = "api", _("API")


@dataclass(frozen=True, eq=False)
class ProviderSpec:
    """One provider a kind can run on. The same provider may serve several kinds (Meta, Twilio); its
    base URL must then be declared the same way by each."""

    name: str  # webhook path segment (/webhooks/<name>/<channel_id>/) and adapter registry key
    label: StrOrPromise = ""
    # Where outbound API calls go, and the environment variable that moves them (tests, staging).
    base_url_env: str = ""
    base_url: str = ""
    # Credentials a connection check cannot start without; empty when this provider has no check.
    check_requires: tuple[str, ...] = ()
    # Outbound file limits when they differ from the kind's (WhatsApp through Twilio).
    media: MediaSpec = None


# Compared and hashed by identity (eq=False): a spec is one registration, and its media rules hold dicts.
@dataclass(frozen=True, eq=False)
class KindSpec:
    value: str  # stored in Channel.kind: at most 16 characters
    label: StrOrPromise
    identity_kind: str  # the IdentityKind of a sender on this kind, and of the recipient of a reply
    providers: tuple[ProviderSpec, ...]  # the first is the default; a channel picks another by config
    credential_fields: tuple[str, ...] = ()  # secrets: encrypted at rest, masked in the UI
    # Labels for credential fields that CREDENTIAL_LABELS does not name yet.
    credential_labels: Mapping[str, StrOrPromise] = field(default_factory=dict)
    settings_fields: tuple[SettingField, ...] = ()  # besides those every kind has (settings_fields.py)
    media: MediaSpec = None  # outbound file limits; None: any file up to the storage limit, as a link
    chat: bool = False  # survey questions are asked inside the chat (buttons or a typed number)
    mail: bool = False  # sends from channel.address, threads by Message-ID, carries files inline
    # How many answer buttons one survey question can carry here; 0 asks for a typed number.
    survey_buttons: int = 0
    # The medium of a survey about a conversation on this kind; empty: the kind itself when it can carry
    # a survey (chat or mail), else mail.
    survey_medium: str = ""

    def __post_init__(self) -> None:
        # Plain strings, also when given as ChannelKind / IdentityKind members.
        for name in ("value", "identity_kind", "survey_medium"):
            object.__setattr__(self, name, str(getattr(self, name)))
        if not self.providers:
            raise ValueError(f"kind {self.value!r} names no provider")
        if len(self.value) > 16:
            raise ValueError(f"kind {self.value!r} is longer than Channel.kind's 16 characters")
        if not self.survey_medium:
            medium = self.value if self.carries_surveys else FALLBACK_SURVEY_MEDIUM
            object.__setattr__(self, "survey_medium", medium)

    @property
    def carries_surveys(self) -> bool:
        """Survey invitations can be sent through this kind (it is then also a survey medium)."""
        return self.chat or self.mail

    @property
    def default_provider(self) -> str:
        return self.providers[0].name

    @property
    def provider_names(self) -> tuple[str, ...]:
        return tuple(provider.name for provider in self.providers)

    def provider(self, config: Mapping[str, Any] | None = None) -> ProviderSpec:
        """The provider a channel of this kind with this config uses."""
        chosen = (config or {}).get("provider")
        return next((p for p in self.providers if p.name == chosen), self.providers[0])


# ---- the registry ---------------------------------------------------------------------------------

_KINDS: dict[str, KindSpec] = {}
# The built-in specs use the settings fields and media rules, which read this registry themselves:
# loading them on first use instead of at import keeps that cycle out of import order.
_BUILT_IN = "channels_app.builtin_kinds"


def _registry() -> dict[str, KindSpec]:
    if _BUILT_IN not in sys.modules:
        import_module(_BUILT_IN)
    return _KINDS


def register_kind(spec: KindSpec) -> KindSpec:
    """Add a kind. Refuses a value already taken and a provider whose base URL contradicts another
    kind's declaration of it."""
    kinds = _registry()
    if spec.value in kinds:
        raise ValueError(f"channel kind {spec.value!r} is already registered")
    declared = _provider_base_urls(kinds.values())
    for provider in spec.providers:
        known = declared.get(provider.name)
        if provider.base_url_env and known and known != (provider.base_url_env, provider.base_url):
            raise ValueError(f"provider {provider.name!r} already has base URL {known}")
    kinds[spec.value] = spec
    return spec


def unregister_kind(value: str) -> None:
    """For tests that register a kind of their own."""
    _registry().pop(value, None)


def kind_spec(value: str) -> KindSpec:
    spec = _registry().get(value)
    if spec is None:
        raise LookupError(f"no channel kind {value!r} is registered")
    return spec


def find_kind(value: str) -> KindSpec | None:
    return _registry().get(value)


def all_kinds() -> tuple[KindSpec, ...]:
    """Every registered kind, built-in ones first, in registration order."""
    return tuple(_registry().values())


def kind_choices() -> list[tuple[str, StrOrPromise]]:
    """Choices for Channel.kind and forms: a callable, so a kind registered at run time is valid."""
    return [(spec.value, spec.label) for spec in all_kinds()]


class KindTable(Mapping[str, T], Generic[T]):
    """A read-only table keyed by kind value, computed from the registry on every read (never a copy
    that a kind registered later would be missing from)."""

    def __init__(self, column: Callable[[KindSpec], T], where: Callable[[KindSpec], bool] | None = None):
        self._column = column
        self._where = where or (lambda spec: True)

    def __getitem__(self, kind: str) -> T:
        spec = find_kind(kind)
        if spec is None or not self._where(spec):
            raise KeyError(kind)
        return self._column(spec)

    def __iter__(self) -> Iterator[str]:
        return (spec.value for spec in all_kinds() if self._where(spec))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"KindTable({dict(self)!r})"


CREDENTIAL_FIELDS: Mapping[str, tuple[str, ...]] = KindTable(lambda spec: spec.credential_fields)
# The provider of each kind's channels unless their config picks another (webhook URL, sending adapter).
WEBHOOK_PROVIDER: Mapping[str, str] = KindTable(lambda spec: spec.default_provider)
# Kinds that can run on several providers (WhatsApp on Meta or Twilio): config["provider"] chooses.
PROVIDER_CHOICES: Mapping[str, tuple[str, ...]] = KindTable(
    lambda spec: spec.provider_names, where=lambda spec: len(spec.providers) > 1
)
# Which of the customer's identities a channel of each kind can reach.
IDENTITY_FOR_KIND: Mapping[str, str] = KindTable(lambda spec: spec.identity_kind)
SURVEY_MEDIUM_FOR_KIND: Mapping[str, str] = KindTable(lambda spec: spec.survey_medium)


def provider_for(kind: str, config: dict | None = None) -> str:
    """The provider (webhook path segment and adapter name) a channel of this kind and config uses."""
    spec = find_kind(kind)
    return spec.provider(config).name if spec else kind


def provider_spec(kind: str, config: dict | None = None) -> ProviderSpec | None:
    spec = find_kind(kind)
    return spec.provider(config) if spec else None


def _provider_base_urls(specs) -> dict[str, tuple[str, str]]:
    return {
        provider.name: (provider.base_url_env, provider.base_url)
        for spec in specs
        for provider in spec.providers
        if provider.base_url_env
    }


def provider_base_urls() -> dict[str, tuple[str, str]]:
    """provider → (environment variable, default URL) for every provider that calls an HTTP API."""
    return _provider_base_urls(all_kinds())


def connection_requirements() -> dict[tuple[str, str], tuple[str, ...]]:
    """(provider, kind) → the credentials its connection check needs, for pairs that have a check."""
    return {
        (provider.name, spec.value): provider.check_requires
        for spec in all_kinds()
        for provider in spec.providers
        if provider.check_requires
    }


_SHARED_CREDENTIAL_LABELS: dict[str, StrOrPromise] = {
    "smtp_password": _("SMTP password"),
    "imap_password": _("IMAP password"),
    "inbound_webhook_secret": _("Inbound webhook secret"),
    "inbound_basic_auth": _("Inbound webhook basic auth (user:password)"),
    "account_sid": _("Account SID"),
    "auth_token": _("Auth token"),
    "access_token": _("Access token"),
    "app_secret": _("App secret"),
    "verify_token": _("Verify token"),
    "bot_token": _("Bot token"),
    "webhook_secret": _("Webhook secret"),
    "page_access_token": _("Page access token"),
    "identity_secret": _("Identity verification secret"),
    "signing_secret": _("Signing secret"),
}


class _CredentialLabels(Mapping[str, "StrOrPromise"]):
    """The shared labels, plus those a registered kind brings for credentials of its own."""

    def _all(self) -> dict[str, StrOrPromise]:
        labels = dict(_SHARED_CREDENTIAL_LABELS)
        for spec in all_kinds():
            labels.update(spec.credential_labels)
        return labels

    def __getitem__(self, key: str) -> StrOrPromise:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


CREDENTIAL_LABELS: Mapping[str, StrOrPromise] = _CredentialLabels()
