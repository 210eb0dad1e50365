"""There is no Docker engine here, so the compose stack is checked against what the app actually reads:
the settings module is executed with exactly the environment a container would get."""

from __future__ import annotations

import os
import re
import runpy
import shlex
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from unittest import mock
from urllib.parse import urlsplit

import pytest
import yaml
from django.core.management import get_commands
from django.http.request import validate_host
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat", "migrate")
ENV_EXAMPLE = ".env.production.example"
# Left empty in the example, so no install runs on a published secret: compose or the production checks
# refuse to start until they are filled in.
PLACEHOLDERS = {"SECRET_KEY": "s" * 64, "POSTGRES_PASSWORD": "Pw_from-token-urlsafe"}


class RecordingEnv(Mapping[str, str]):
    """An environment that remembers which variables were asked for."""

    def __init__(self, values: Mapping[str, str]):
        self.values = dict(values)
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self.values[key]

    def get(self, key, default=None):
        self.asked.add(key)
        return self.values.get(key, default)

    def __contains__(self, key) -> bool:
        self.asked.add(key)
        return key in self.values

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}")


def _interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} substitution; $$ is a literal $."""

    def replace(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise AssertionError(f"compose requires {name}: {arg}")
        return arg if op == ":-" else ""

    parts = value.split("$$")
    return "$".join(_VARIABLE.sub(replace, part) for part in parts)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines as compose's env_file reads them, held to the subset where every reader agrees."""
    values = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=([^\s\"'#]*)", line)
        assert match, f"{path.name}:{number} is not a plain KEY=value line: {line!r}"
        assert match.group(1) not in values, f"{path.name}:{number} repeats {match.group(1)}"
        values[match.group(1)] = match.group(2)
    return values


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def example() -> dict[str, str]:
    """What a user puts into .env: the example with the empty placeholders filled in."""
    values = read_env_file(ROOT / ENV_EXAMPLE)
    assert {key: values.get(key) for key in PLACEHOLDERS} == dict.fromkeys(PLACEHOLDERS, "")
    return {**values, **PLACEHOLDERS}


def compose_variables(compose_text: str) -> set[str]:
    return {match.group(1) for match in _VARIABLE.finditer(compose_text.replace("$$", ""))}


def container_env(compose: dict, service: str, dotenv: Mapping[str, str]) -> dict[str, str]:
    """The environment a container starts with: its env_file, overridden by `environment`."""
    spec = compose["services"][service]
    env = dict(dotenv) if spec.get("env_file") == ".env" else {}
    env.update({key: _interpolate(str(value), dotenv) for key, value in spec["environment"].items()})
    return env


def run_settings(env: Mapping[str, str]) -> tuple[RecordingEnv, dict]:
    """Executes cxm/settings.py afresh under `env`, recording every variable it (and cxm.config) reads."""
    recording = RecordingEnv(env)
    with mock.patch.object(os, "environ", recording):
        namespace = runpy.run_path(str(ROOT / "cxm" / "settings.py"))
    return recording, namespace


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, continuation lines joined, grouped by stage."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        keyword, _, rest = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), " ".join(rest.split())))
    return stages


def image_workdir() -> PurePosixPath:
    return PurePosixPath([arg for key, arg in dockerfile_stages()[-1] if key == "WORKDIR"][-1])


def docker_ignores(path: str) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or one of its parents wins."""
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negate = line.startswith("!")
            pattern = line.lstrip("!").strip("/")
            regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
            regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
            patterns.append((re.compile(regex), negate))
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for regex, negate in patterns:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            ignored = not negate
    return ignored


# --- the services -------------------------------------------------------------------------------------


def test_full_stack_services_exist_with_health_checks(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_migrations_finish_before_anything_serves(compose, service):
    assert compose["services"][service]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert compose["services"]["migrate"]["restart"] == "no", "a finished one-shot job must stay finished"


def test_commands_point_at_real_entry_points(compose, settings):
    commands = get_commands()
    services = compose["services"]
    for name, spec in services.items():
        for command in (spec.get("command", []), spec.get("healthcheck", {}).get("test", [])[1:]):
            if command[:2] == ["python", "manage.py"]:
                assert command[2] in commands, f"{name}: manage.py has no command {command[2]!r}"
    web = services["web"]["command"]
    assert (
        web[1] == settings.ASGI_APPLICATION.replace(".application", ":application") == "cxm.asgi:application"
    )
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]


def test_uvicorn_accepts_the_web_command_and_the_image_runs_the_same(compose):
    from uvicorn.main import main

    web = compose["services"]["web"]["command"]
    assert web[0] == "uvicorn"
    params = main.make_context("uvicorn", web[1:]).params
    assert params["app"] == "cxm.asgi:application"
    published = compose["services"]["web"]["ports"][0].rsplit(":", 1)[1]
    assert str(params["port"]) == published
    cmd = [arg for key, arg in dockerfile_stages()[-1] if key == "CMD"][-1]
    assert yaml.safe_load(cmd) == web


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_celery_accepts_the_background_commands(compose, settings, service):
    from celery.app.utils import find_app
    from celery.bin.base import CLIContext
    from celery.bin.celery import celery

    command = compose["services"][service]["command"]
    assert command[:4] == ["celery", "-A", "cxm", service]
    obj = CLIContext(app=find_app(command[2]), no_color=True, workdir=None, quiet=True)
    params = celery.commands[service].make_context(service, command[4:], obj=obj).params  # raises on a typo
    if service == "worker":
        assert sorted(params["queues"]) == sorted(q.name for q in settings.CELERY_TASK_QUEUES)


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_background_health_checks_use_an_existing_command(compose, service):
    from cxm.management.commands.healthcheck import Command

    test = compose["services"][service]["healthcheck"]["test"]
    assert test[1:4] == ["python", "manage.py", "healthcheck"]
    parser = Command().create_parser("manage.py", "healthcheck")
    assert parser.parse_args(test[4:]).component == service


# --- the environment ----------------------------------------------------------------------------------


def test_readme_names_the_env_file_compose_loads(compose):
    readme = (ROOT / "README.md").read_text()
    copied = re.findall(r"^cp (\S+) (\S+)", readme, flags=re.MULTILINE)
    assert (ENV_EXAMPLE, ".env") in copied, f"README must say `cp {ENV_EXAMPLE} .env`, says {copied}"
    for service in APP_SERVICES:
        assert compose["services"][service]["env_file"] == ".env", service


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_variable_is_one_the_app_reads_and_production_accepts_it(compose, example, service):
    env = container_env(compose, service, example)
    recording, namespace = run_settings(env)  # must not raise: the example is a valid production setup
    config = namespace["CONFIG"]
    assert config.is_production and not config.debug and not config.embedded
    assert urlsplit(env["DATABASE_URL"]).hostname == "postgres"
    assert urlsplit(env["REDIS_URL"]).hostname == "redis"
    fixed = set(compose["services"][service]["environment"])
    assert not fixed - recording.asked, f"{service} sets variables the app never reads"
    # Variables of the file the app does not read must at least be ones compose itself substitutes.
    unread = set(example) - recording.asked
    assert unread <= compose_variables((ROOT / "docker-compose.yml").read_text()), unread


def test_env_example_for_development_lists_only_variables_the_app_reads():
    values = read_env_file(ROOT / ".env.example")
    recording, _ = run_settings(values)
    assert not set(values) - recording.asked


def test_connection_reuse_is_off_for_asgi_and_on_for_workers(compose, example):
    database = {
        s: run_settings(container_env(compose, s, example))[1]["DATABASES"] for s in ("web", "worker")
    }
    assert database["web"]["default"]["CONN_MAX_AGE"] == 0
    assert database["worker"]["default"]["CONN_MAX_AGE"] == 60


def test_compose_refuses_to_start_without_the_secrets(compose, example):
    for secret in ("POSTGRES_PASSWORD",):
        with pytest.raises(AssertionError, match=secret):
            container_env(compose, "web", {**example, secret: ""})
    with pytest.raises(Exception, match="SECRET_KEY"):
        run_settings(container_env(compose, "web", {**example, "SECRET_KEY": ""}))


def test_database_credentials_match_the_postgres_service(compose, example):
    pg = {k: _interpolate(str(v), example) for k, v in compose["services"]["postgres"]["environment"].items()}
    url = urlsplit(container_env(compose, "web", example)["DATABASE_URL"])
    assert (url.username, url.password, url.path.lstrip("/")) == (
        pg["POSTGRES_USER"],
        pg["POSTGRES_PASSWORD"],
        pg["POSTGRES_DB"],
    )


def test_public_host_is_allowed(example):
    host = urlsplit(example["PUBLIC_BASE_URL"]).hostname
    assert validate_host(host, example["ALLOWED_HOSTS"].split(","))


@pytest.mark.django_db
def test_web_health_check_reaches_healthz_past_the_host_check(compose, example, tmp_path):
    """The check runs in the container's shell; a stand-in curl records what it would request."""
    (tmp_path / "curl").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    (tmp_path / "curl").chmod(0o755)
    test = compose["services"]["web"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    env = {**container_env(compose, "web", example), "PATH": f"{tmp_path}:/usr/bin:/bin"}
    args = subprocess.run(
        ["/bin/sh", "-c", test[1].replace("$$", "$")], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    flags = "".join(arg[1:] for arg in args if re.fullmatch(r"-[a-zA-Z]+", arg))
    assert "f" in flags or "--fail" in args, "curl must fail on an error status"
    url = urlsplit(args[-1])
    assert (url.hostname, url.port, url.path) == ("127.0.0.1", 8000, "/healthz")
    headers = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "-H"]
    host = next((h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("host:")), url.netloc)
    allowed = run_settings(container_env(compose, "web", example))[1]["ALLOWED_HOSTS"]
    with override_settings(ALLOWED_HOSTS=allowed, DEBUG=False):
        from django.test import Client

        status = Client().get(url.path, headers={"host": host}).status_code
    assert status in (200, 503), f"/healthz answered {status} to Host: {host}"


# --- files, static files and the image -------------------------------------------------------------


def test_media_volume_is_shared_by_web_and_worker_where_settings_put_media(compose, example):
    namespace = run_settings(container_env(compose, "web", example))[1]
    media = image_workdir() / PurePosixPath(namespace["MEDIA_ROOT"].relative_to(namespace["BASE_DIR"]))
    static = image_workdir() / PurePosixPath(namespace["STATIC_ROOT"].relative_to(namespace["BASE_DIR"]))
    mounts = {}
    for service in ("web", "worker"):
        volumes = [v.split(":") for v in compose["services"][service].get("volumes", [])]
        mounts[service] = {target: source for source, target, *_ in volumes}
        assert str(media) in mounts[service], f"{service} does not mount {media}"
        # A volume over the collected static files would hide what the build put there.
        assert not any(static.is_relative_to(target) for target in mounts[service]), service
    source = mounts["web"][str(media)]
    assert source == mounts["worker"][str(media)]
    assert source in compose["volumes"], "a named volume, so uploads survive a restart"


def test_image_imports_the_app_from_its_workdir():
    """pip also put the apps in site-packages: a process started outside the workdir (`docker compose exec
    -w /tmp`, `python -m`, a tool's own working directory) would import that copy, with BASE_DIR and
    MEDIA_ROOT inside site-packages and no templates, static files or translations beside it."""
    final = dockerfile_stages()[-1]
    env = " ".join(arg for key, arg in final if key == "ENV")
    assert re.search(rf"\bPYTHONPATH={re.escape(str(image_workdir()))}(\s|$)", env)
    assert any(key == "USER" and arg not in ("root", "0") for key, arg in final)


def test_static_files_are_collected_at_build_and_served_by_whitenoise(compose, example):
    runs = [arg for key, arg in dockerfile_stages()[-1] if key == "RUN"]
    collect = next(run for run in runs if "collectstatic" in run)
    assert "CXM_ENV=production" in collect, "the manifest whitenoise serves is made by production storage"
    namespace = run_settings(container_env(compose, "web", example))[1]
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in namespace["MIDDLEWARE"]
    assert namespace["STORAGES"]["staticfiles"]["BACKEND"].startswith("whitenoise.")
    media_dir = PurePosixPath(namespace["MEDIA_ROOT"].relative_to(namespace["BASE_DIR"]))
    assert f"chown -R cxm:cxm {image_workdir() / media_dir}" in collect


def test_dependencies_are_installed_from_the_lock_with_hashes():
    build = dockerfile_stages()[0]
    runs = [shlex.split(arg) for key, arg in build if key == "RUN"]
    locked = next(i for i, run in enumerate(runs) if run[:2] == ["pip", "install"] and "-r" in run)
    assert (
        "--require-hashes" in runs[locked]
        and runs[locked][runs[locked].index("-r") + 1] == "requirements.lock"
    )
    project = next(run for run in runs[locked + 1 :] if run[:2] == ["pip", "install"])
    assert "--no-deps" in project and project[-1] == "."
    copies = [arg for key, arg in build if key == "COPY"]
    assert copies[0] == "requirements.lock ./", "the lock is copied (and installed) before the code"
    final = dockerfile_stages()[-1]
    assert ("COPY", "--from=build /opt/venv /opt/venv") in final


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        "var/media/a.png",
        ".git/HEAD",
        ".env",
        ".ci-state/x",
        "test-results/a.png",
        "cxm/__pycache__/settings.cpython-311.pyc",
        ".pytest_cache/v",
        ".ruff_cache/x",
        ".mypy_cache/x",
    ],
)
def test_dockerignore_keeps_local_state_out_of_the_image(path):
    assert docker_ignores(path)


def test_dockerignore_keeps_everything_the_image_runs():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    needed = [
        path
        for path in tracked.stdout.splitlines()
        if path.split("/")[0]
        in {
            "core",
            "cxm",
            "accounts",
            "channels_app",
            "profiles",
            "tickets",
            "surveys",
            "analytics",
            "templates",
            "static",
            "locale",
        }
    ]
    needed += ["manage.py", "pyproject.toml", "README.md", "requirements.lock"]
    assert not [path for path in needed if docker_ignores(path)]
    for key, arg in dockerfile_stages()[0]:
        if key == "COPY":
            source = arg.split()[0]
            assert (ROOT / source).exists() and not docker_ignores(source), source
