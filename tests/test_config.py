"""Settings come from the environment, and a bad value stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cxm.config import DEFAULT_SECRET_KEY, ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "x" * 64
PRODUCTION = {
    "CXM_ENV": "production",
    "SECRET_KEY": GOOD_SECRET,
    "ALLOWED_HOSTS": "cx.example.com",
    "PUBLIC_BASE_URL": "https://cx.example.com",
    "DATABASE_URL": "postgres://cxm:pw@db:5432/cxm",
    "REDIS_URL": "redis://redis:6379/0",
}


def test_development_defaults_run_embedded():
    config = load_config({})
    assert config.environment == "development"
    assert config.debug is True
    # No URLs: settings starts the private PostgreSQL and Redis (cxm.embedded); there is no SQLite mode.
    assert config.embedded is True
    assert (config.database, config.database_url, config.redis_url) == ({}, None, None)
    assert config.public_base_url == "http://127.0.0.1:8000"
    assert "127.0.0.1" in config.allowed_hosts


def test_services_are_used_when_urls_are_set():
    config = load_config({"DATABASE_URL": "postgres://u:p@h:5433/cxm", "REDIS_URL": "redis://r:6380/2"})
    assert config.embedded is False
    assert config.database["ENGINE"] == "django.db.backends.postgresql"
    assert (config.database["HOST"], config.database["PORT"], config.database["NAME"]) == ("h", 5433, "cxm")
    assert config.redis_url == "redis://r:6380/2"


def test_valid_production_config_loads():
    config = load_config(PRODUCTION)
    assert config.is_production and config.debug is False
    assert config.csrf_trusted_origins == ["https://cx.example.com"]


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"CXM_ENV": "staging"}, "CXM_ENV"),
        ({"ALLOWED_HOSTS": "a.example.com,,b.example.com"}, "ALLOWED_HOSTS"),
        ({"PUBLIC_BASE_URL": "cx.example.com"}, "PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "ftp://cx.example.com"}, "PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "https://cx.example.com/?a=1"}, "PUBLIC_BASE_URL"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://u@h:5432/"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://redis:6379"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://redis:notaport/0"}, "REDIS_URL"),
        ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL"),
        ({"FIELD_ENCRYPTION_KEY": "too-short"}, "FIELD_ENCRYPTION_KEY"),
    ],
)
def test_bad_values_are_rejected_naming_the_variable(env, variable):
    with pytest.raises(ConfigError) as excinfo:
        load_config(env)
    assert variable in str(excinfo.value)


@pytest.mark.parametrize(
    ("override", "variable"),
    [
        ({"DEBUG": "true"}, "DEBUG"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": DEFAULT_SECRET_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
        ({"REDIS_URL": ""}, "REDIS_URL"),
    ],
)
def test_production_refuses_unsafe_settings(override, variable):
    with pytest.raises(ConfigError) as excinfo:
        load_config({**PRODUCTION, **override})
    assert variable in str(excinfo.value)


def test_field_encryption_keys_accept_a_rotation_list():
    from cryptography.fernet import Fernet

    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    config = load_config({"FIELD_ENCRYPTION_KEY": f"{new},{old}"})
    assert config.field_encryption_keys == [new.encode(), old.encode()]


def test_start_up_stops_with_a_message_naming_the_variable():
    env = {**os.environ, "DEBUG": "sometimes"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "DEBUG='sometimes' is not a boolean" in result.stderr


def test_production_start_up_refuses_the_default_secret_key():
    env = {**os.environ, **PRODUCTION, "SECRET_KEY": DEFAULT_SECRET_KEY}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a private value" in result.stderr


@pytest.mark.parametrize("raw", ["abc", "-1", "99999"])
def test_bad_connection_age_names_the_variable(raw):
    with pytest.raises(ConfigError, match="DB_CONN_MAX_AGE"):
        load_config({"DATABASE_URL": "postgres://u@h:5432/cxm", "DB_CONN_MAX_AGE": raw})


def test_connection_age_is_off_by_default_and_configurable():
    assert load_config({"DATABASE_URL": "postgres://u@h:5432/cxm"}).database["CONN_MAX_AGE"] == 0
    config = load_config({"DATABASE_URL": "postgres://u@h:5432/cxm", "DB_CONN_MAX_AGE": "60"})
    assert config.database["CONN_MAX_AGE"] == 60


def test_postgres_connections_run_without_jit():
    config = load_config({"DATABASE_URL": "postgres://u@h:5432/cxm"})
    assert "-c jit=off" in config.database["OPTIONS"]["options"]


def test_the_app_connection_really_has_jit_off(db):
    from django.db import connection

    assert connection.vendor == "postgresql"  # the suite runs on the real database
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_sqlite_is_refused_with_the_reason():
    with pytest.raises(ConfigError, match="postgres://"):
        load_config({"DATABASE_URL": "sqlite:///var/db.sqlite3"})


def test_one_own_server_and_one_embedded():
    config = load_config({"DATABASE_URL": "postgres://u@h:5432/cxm"})
    assert config.embedded is True  # Redis is still the private one
    assert config.database["OPTIONS"]["options"] == "-c jit=off"


@pytest.mark.parametrize(
    ("raw", "hours"), [(None, (21, 9)), ("22-8", (22, 8)), ("off", (0, 0)), ("false", (0, 0))]
)
def test_quiet_hours_from_the_environment(raw, hours):
    env = {} if raw is None else {"SURVEY_QUIET_HOURS": raw}
    assert load_config(env).survey_quiet_hours == hours


@pytest.mark.parametrize("raw", ["21", "25-9", "evening"])
def test_bad_quiet_hours_name_the_variable(raw):
    with pytest.raises(ConfigError, match="SURVEY_QUIET_HOURS"):
        load_config({"SURVEY_QUIET_HOURS": raw})


def test_embedded_data_folder_can_be_moved(tmp_path):
    assert load_config({"CXM_EMBEDDED_DIR": str(tmp_path)}).embedded_dir == tmp_path.resolve()


def test_the_products_own_mail_is_configured_by_email_url():
    smtp = load_config({"EMAIL_URL": "smtp://digest%40shop.pl:p%40ss@mail.shop.pl?tls=1"}).email
    assert smtp == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.shop.pl", "EMAIL_PORT": 587, "EMAIL_HOST_USER": "digest@shop.pl",
        "EMAIL_HOST_PASSWORD": "p@ss", "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False, "EMAIL_TIMEOUT": 15,
    }  # fmt: skip
    assert load_config({"EMAIL_URL": "smtps://relay.internal"}).email["EMAIL_PORT"] == 465
    assert load_config({}).email == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    assert load_config({"DEBUG": "0"}).email["EMAIL_HOST"] == "localhost"
    assert load_config({"DEFAULT_FROM_EMAIL": "CX <cx@shop.pl>"}).default_from_email == "CX <cx@shop.pl>"


@pytest.mark.parametrize(
    "value", ["http://mail.shop.pl", "smtp://", "smtp://h?tls=1&ssl=1", "smtp://h?starttls=1", "smtp://h:x"]
)
def test_a_bad_email_url_is_refused_naming_the_variable(value):
    with pytest.raises(ConfigError, match="EMAIL_URL"):
        load_config({"EMAIL_URL": value})
