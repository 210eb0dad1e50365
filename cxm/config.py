"""Strict parsing of the environment into one typed configuration object.

Every value is validated up front so a typo in a deployment stops start-up with a message that names
the variable, instead of surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import environ

from channels_app.kinds import provider_base_urls

BASE_DIR = Path(__file__).resolve().parent.parent

# Public on purpose: it marks a development install and is refused by production settings.
DEFAULT_SECRET_KEY = "insecure-development-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105

ENVIRONMENTS = ("development", "production")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Config:
    environment: str
    debug: bool
    secret_key: str
    allowed_hosts: list[str]
    public_base_url: str
    database: dict
    database_url: str | None
    redis_url: str | None
    field_encryption_keys: list[bytes]
    log_level: str
    time_zone: str
    survey_min_interval_days: int = 14
    survey_quiet_hours: tuple[int, int] = (21, 9)
    embedded_dir: Path | None = None
    csrf_trusted_origins: list[str] = field(default_factory=list)
    provider_base_urls: dict[str, str] = field(default_factory=dict)
    # False when PUBLIC_BASE_URL fell back to the development default: pages may then use the address
    # they were requested at (see core.public_url).
    public_base_url_explicit: bool = False
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (see core.proxies); empty trusts none.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # Bearer token that unlocks the detailed /healthz report for monitoring; empty means staff only.
    healthz_token: str = ""
    # Hosts (names, ".suffix" patterns, addresses or networks) an admin lets the server reach even though
    # they are private, such as an internal SMTP relay (see core.outbound_guard).
    outbound_allowed_hosts: tuple[str, ...] = ()
    # The mail the product itself sends (weekly digests, sign-in codes), not the channels' mail:
    # Django's EMAIL_* settings, from EMAIL_URL.
    email: dict[str, Any] = field(default_factory=dict)
    default_from_email: str = "cxm@localhost"

    @property
    def embedded(self) -> bool:
        """True when a private PostgreSQL or Redis is started for this install (see cxm.embedded)."""
        return self.database_url is None or self.redis_url is None

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def parse_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; use one of true/false, 1/0, yes/no, on/off.")


def parse_choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = _get(env, name)
    if raw is None:
        return default
    if raw not in choices:
        raise ConfigError(f"{name}={raw!r} is not valid; expected one of: {', '.join(choices)}.")
    return raw


def parse_list(env: Mapping[str, str], name: str, default: list[str]) -> list[str]:
    raw = _get(env, name)
    if raw is None:
        return list(default)
    items = [item.strip() for item in raw.split(",")]
    if any(not item for item in items):
        raise ConfigError(f"{name}={raw!r} has an empty item; separate values with single commas.")
    return items


def parse_int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number.") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name}={raw!r} must be between {minimum} and {maximum}.")
    return value


def parse_http_url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = _get(env, name)
    if raw is None:
        return default
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}={raw!r} must be an absolute http(s) URL such as https://cx.example.com.")
    if parts.query or parts.fragment:
        raise ConfigError(f"{name}={raw!r} must not contain a query string or fragment.")
    return raw.rstrip("/")


def parse_email_url(env: Mapping[str, str], name: str, *, debug: bool) -> dict[str, Any]:
    """`smtp://user:password@host:587?tls=1` (or `?ssl=1`), or `console://` to print mail instead of
    sending it. Unset: printed while debugging, otherwise handed to an SMTP server on localhost:25."""
    raw = _get(env, name)
    if raw is None:
        raw = "console://" if debug else "smtp://localhost:25"
    parts = urlsplit(raw)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"{name}={raw!r} must be smtp://user:password@host:port?tls=1 or console://.")
    options = dict(parse_qsl(parts.query))
    unknown = set(options) - {"tls", "ssl", "timeout"}
    if unknown:
        raise ConfigError(f"{name} has unknown options {sorted(unknown)}; use tls, ssl or timeout.")
    use_ssl = parts.scheme == "smtps" or options.get("ssl") in ("1", "true")
    use_tls = options.get("tls") in ("1", "true")
    if use_ssl and use_tls:
        raise ConfigError(f"{name} asks for both ssl and tls; choose one.")
    try:
        port = parts.port or (465 if use_ssl else 587 if use_tls else 25)
        timeout = int(options.get("timeout", "15"))
    except ValueError:
        raise ConfigError(f"{name}={raw!r} has a port or timeout that is not a number.") from None
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_TIMEOUT": timeout,
    }


def parse_database_url(env: Mapping[str, str], name: str) -> tuple[str | None, dict]:
    """The Django database settings from the URL, or (None, {}) when unset: the embedded default then
    starts a private PostgreSQL (see cxm.embedded) and settings fills the entry in."""
    raw = _get(env, name)
    if raw is None:
        return None, {}
    scheme = urlsplit(raw).scheme
    if scheme not in ("postgres", "postgresql", "pgsql"):
        raise ConfigError(f"{name} must be a postgres:// URL, got scheme {scheme!r}.")
    try:
        config = environ.Env.db_url_config(raw)
    except Exception as exc:  # django-environ raises several types for malformed URLs
        raise ConfigError(f"{name} could not be parsed: {exc}") from exc
    if not config.get("NAME"):
        raise ConfigError(f"{name} must name a database, e.g. postgres://user@host:5432/cxm.")
    return raw, with_connection_options(config, env)


def with_connection_options(config: dict, env: Mapping[str, str]) -> dict:
    """Connection settings shared by a configured server and the embedded one."""
    config = dict(config)
    # The inbox's statements are short and their cost estimates on large tables high: JIT would
    # compile each one for longer than it runs (8 ms on a 2 ms search window at ten million messages).
    options = dict(config.get("OPTIONS", {}))
    options["options"] = " ".join(filter(None, [options.get("options", ""), "-c jit=off"]))
    config["OPTIONS"] = options
    # ASGI serves sync views from a thread per request, where persistent connections would pile up, so
    # they are off unless DB_CONN_MAX_AGE asks for them: in WSGI web processes and Celery workers,
    # where reusing one connection saves a PostgreSQL handshake per request or task.
    config["CONN_MAX_AGE"] = parse_int(env, "DB_CONN_MAX_AGE", 0, minimum=0, maximum=3600)
    config["CONN_HEALTH_CHECKS"] = True
    return config


def parse_redis_url(env: Mapping[str, str], name: str) -> str | None:
    raw = _get(env, name)
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("redis", "rediss", "unix") or (parts.scheme != "unix" and not parts.hostname):
        raise ConfigError(f"{name}={raw!r} must be a redis://host:port/db URL.")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} has an invalid port.") from exc
    return raw


def parse_quiet_hours(env: Mapping[str, str], name: str, default: tuple[int, int]) -> tuple[int, int]:
    """`21-9` (from 21:00 to 09:00 in the customer's own time zone) or `off`."""
    raw = _get(env, name)
    if raw is None:
        return default
    if raw.lower() in ("off", "none", *_FALSE):
        return (0, 0)
    start, sep, end = raw.partition("-")
    if not sep or not start.strip().isdigit() or not end.strip().isdigit():
        raise ConfigError(f"{name}={raw!r} must be two hours like 21-9, or off.")
    hours = (int(start), int(end))
    if not all(0 <= hour <= 23 for hour in hours):
        raise ConfigError(f"{name}={raw!r}: hours run from 0 to 23.")
    return hours


_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def parse_outbound_hosts(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated host names (`relay.internal`), domain suffixes (`.corp.example`), addresses
    (`10.0.0.5`, `fd00::5`) or networks (`10.20.0.0/16`); anything else stops start-up."""
    entries = []
    for item in parse_list(env, name, []):
        entry = item.lower()
        try:
            entries.append(str(ipaddress.ip_network(entry.strip("[]"), strict=True)))
            continue
        except ValueError:
            pass
        labels = entry.removeprefix(".").rstrip(".").split(".")
        if "/" in entry or not all(_HOST_LABEL.match(label) for label in labels):
            raise ConfigError(
                f"{name} holds {item!r}, which is neither a host name, a .domain suffix, an address nor "
                "a network such as 10.20.0.0/16."
            )
        entries.append(entry.rstrip("."))
    return tuple(entries)


def parse_networks(
    env: Mapping[str, str], name: str
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated addresses or CIDR blocks (`10.0.0.5, 172.16.0.0/12, ::1`).

    Host bits set in a block (`10.0.0.5/8`) are refused rather than silently widened: a typo here
    decides whose headers are believed.
    """
    networks = []
    for item in parse_list(env, name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=True))
        except ValueError:
            raise ConfigError(
                f"{name} has {item!r}, which is not an IP address or network such as 10.0.0.0/8."
            ) from None
    return tuple(networks)


def parse_token(env: Mapping[str, str], name: str, *, min_length: int = 24) -> str:
    """A shared secret sent by machines; short ones are refused because they can be guessed."""
    raw = _get(env, name)
    if raw is None:
        return ""
    if len(raw) < min_length:
        raise ConfigError(f"{name} must be at least {min_length} characters long when set.")
    return raw


def redis_url_with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/{db}").geturl()


def derive_fernet_key(secret: str) -> bytes:
    """A stable Fernet key derived from the secret key, for installs that set no dedicated key."""
    digest = hashlib.sha256(b"cxm-field-encryption:" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def parse_fernet_keys(env: Mapping[str, str], name: str, secret_key: str) -> list[bytes]:
    raw = _get(env, name)
    if raw is None:
        return [derive_fernet_key(secret_key)]
    keys = []
    for item in parse_list(env, name, []):
        try:
            decoded = base64.urlsafe_b64decode(item.encode())
        except ValueError as exc:
            raise ConfigError(f"{name} holds a key that is not url-safe base64.") from exc
        if len(decoded) != 32:
            raise ConfigError(
                f"{name} holds a key that is not 32 bytes; generate one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
            )
        keys.append(item.encode())
    return keys


def load_config(env: Mapping[str, str]) -> Config:
    environment = parse_choice(env, "CXM_ENV", ENVIRONMENTS, "development")
    production = environment == "production"
    debug = parse_bool(env, "DEBUG", default=not production)
    secret_key = _get(env, "SECRET_KEY") or DEFAULT_SECRET_KEY
    allowed_hosts = parse_list(
        env, "ALLOWED_HOSTS", [] if production else ["localhost", "127.0.0.1", "[::1]"]
    )
    public_base_url = parse_http_url(env, "PUBLIC_BASE_URL", None if production else "http://127.0.0.1:8000")
    database_url, database = parse_database_url(env, "DATABASE_URL")
    redis_url = parse_redis_url(env, "REDIS_URL")
    log_level = parse_choice(env, "LOG_LEVEL", _LOG_LEVELS, "INFO")
    time_zone = _get(env, "TIME_ZONE") or "UTC"

    if production:
        if debug:
            raise ConfigError("DEBUG must be off when CXM_ENV=production.")
        if secret_key == DEFAULT_SECRET_KEY:
            raise ConfigError("SECRET_KEY must be set to a private value when CXM_ENV=production.")
        if len(secret_key) < 50:
            raise ConfigError("SECRET_KEY must be at least 50 characters long when CXM_ENV=production.")
        if not allowed_hosts:
            raise ConfigError(
                "ALLOWED_HOSTS must list the host names the site is served on (CXM_ENV=production)."
            )
        if public_base_url is None:
            raise ConfigError(
                "PUBLIC_BASE_URL must be set when CXM_ENV=production (webhook and survey links)."
            )
        # Over http the session and CSRF cookies lose Secure and HSTS is off: refuse unless the operator
        # says in so many words that this install is reached without TLS (a closed network, a trial).
        if public_base_url.startswith("http://") and not parse_bool(env, "CXM_ALLOW_HTTP", default=False):
            raise ConfigError(
                "PUBLIC_BASE_URL must be an https:// address when CXM_ENV=production; "
                "set CXM_ALLOW_HTTP=true only for an install that is never reached over the internet."
            )
        if database_url is None:
            raise ConfigError("DATABASE_URL must point at PostgreSQL when CXM_ENV=production.")
        if redis_url is None:
            raise ConfigError("REDIS_URL must be set when CXM_ENV=production.")

    assert public_base_url is not None
    host = urlsplit(public_base_url)
    csrf_trusted = [f"{host.scheme}://{host.netloc}"]

    return Config(
        environment=environment,
        debug=debug,
        secret_key=secret_key,
        allowed_hosts=allowed_hosts,
        public_base_url=public_base_url,
        database=database,
        database_url=database_url,
        redis_url=redis_url,
        field_encryption_keys=parse_fernet_keys(env, "FIELD_ENCRYPTION_KEY", secret_key),
        log_level=log_level,
        time_zone=time_zone,
        csrf_trusted_origins=csrf_trusted,
        survey_min_interval_days=parse_int(env, "SURVEY_MIN_INTERVAL_DAYS", 14, minimum=0, maximum=3650),
        survey_quiet_hours=parse_quiet_hours(env, "SURVEY_QUIET_HOURS", (21, 9)),
        embedded_dir=Path(raw_dir).resolve() if (raw_dir := _get(env, "CXM_EMBEDDED_DIR")) else None,
        public_base_url_explicit=_get(env, "PUBLIC_BASE_URL") is not None,
        trusted_proxies=parse_networks(env, "TRUSTED_PROXIES"),
        healthz_token=parse_token(env, "HEALTHZ_TOKEN"),
        outbound_allowed_hosts=parse_outbound_hosts(env, "OUTBOUND_ALLOWED_HOSTS"),
        email=parse_email_url(env, "EMAIL_URL", debug=debug),
        default_from_email=_get(env, "DEFAULT_FROM_EMAIL") or "cxm@localhost",
        provider_base_urls={
            provider: parse_http_url(env, variable, default) or default
            # Where outbound provider calls go, each movable by its variable (tests and staging point
            # them at local stub servers); the kinds' provider specs name both.
            for provider, (variable, default) in provider_base_urls().items()
        },
    )
