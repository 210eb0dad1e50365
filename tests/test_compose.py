"""There is no Docker engine here, so the compose file is checked against what the app actually reads."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings

from cxm.config import load_config

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat", "migrate")


class RecordingEnv(Mapping[str, str]):
    """An environment that remembers which variables the configuration asked for."""

    def __init__(self, values: Mapping[str, str]):
        self.values = dict(values)
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self.values[key]

    def get(self, key, default=None):
        self.asked.add(key)
        return self.values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} substitution."""

    def replace(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise AssertionError(f"compose requires {name}: {arg}")
        return arg if op == ":-" else ""

    return re.sub(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}", replace, value)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _app_env(compose: dict, service: str, dotenv: Mapping[str, str]) -> dict[str, str]:
    env = compose["services"][service]["environment"]
    return {key: _interpolate(str(value), dotenv) for key, value in env.items()}


def test_full_stack_services_exist_with_health_checks(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert name in services, name
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert (ROOT / "Dockerfile").exists()


def test_app_environment_matches_what_settings_read(compose):
    dotenv = {"SECRET_KEY": "s" * 64}
    for service in APP_SERVICES:
        env = _app_env(compose, service, dotenv)
        recording = RecordingEnv(env)
        config = load_config(recording)  # must not raise: compose defaults are a valid production setup
        assert config.is_production and not config.debug
        assert not config.embedded
        unknown = set(env) - recording.asked
        assert not unknown, f"{service} sets variables the app never reads: {unknown}"
        for required in (
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "PUBLIC_BASE_URL",
            "DATABASE_URL",
            "REDIS_URL",
            "DEBUG",
        ):
            assert required in env, f"{service} lacks {required}"
        assert urlsplit(env["DATABASE_URL"]).hostname == "postgres"
        assert urlsplit(env["REDIS_URL"]).hostname == "redis"


def test_secret_key_must_be_provided(compose):
    with pytest.raises(AssertionError, match="SECRET_KEY"):
        _app_env(compose, "web", {})


def test_database_credentials_match_the_postgres_service(compose):
    pg = {k: _interpolate(str(v), {}) for k, v in compose["services"]["postgres"]["environment"].items()}
    url = urlsplit(_app_env(compose, "web", {"SECRET_KEY": "s" * 64})["DATABASE_URL"])
    assert (url.username, url.password, url.path.lstrip("/")) == (
        pg["POSTGRES_USER"],
        pg["POSTGRES_PASSWORD"],
        pg["POSTGRES_DB"],
    )


def test_commands_point_at_real_entry_points(compose):
    services = compose["services"]
    web = services["web"]["command"]
    assert web[0] == "uvicorn" and web[1] == settings.ASGI_APPLICATION.replace(".application", ":application")
    worker = services["worker"]["command"]
    assert worker[:4] == ["celery", "-A", "cxm", "worker"]
    queues = worker[worker.index("-Q") + 1].split(",")
    assert sorted(queues) == sorted(q.name for q in settings.CELERY_TASK_QUEUES)
    assert services["beat"]["command"][:4] == ["celery", "-A", "cxm", "beat"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert "8000" in services["web"]["ports"][0]
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_background_health_checks_use_an_existing_command(compose, service):
    from cxm.management.commands.healthcheck import Command

    test = compose["services"][service]["healthcheck"]["test"]
    assert test[1:4] == ["python", "manage.py", "healthcheck"]
    parser = Command().create_parser("manage.py", "healthcheck")
    assert parser.parse_args(test[4:]).component == service
