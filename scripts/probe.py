"""Reachability probes for scripts/services.sh, using the project's own client libraries.

Exit codes: 0 reachable, 1 unreachable, 2 reachable but refused our credentials.
"""

from __future__ import annotations

import contextlib
import sys
from urllib.parse import unquote, urlsplit


def _pg_params(url: str, dbname: str | None = None) -> dict:
    parts = urlsplit(url)
    return {
        "host": unquote(parts.hostname or "127.0.0.1"),
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or "") or None,
        "dbname": dbname or parts.path.lstrip("/") or "postgres",
        "connect_timeout": 2,
    }


def postgres(url: str) -> int:
    import psycopg

    try:
        psycopg.connect(**_pg_params(url, "postgres")).close()
    except psycopg.OperationalError as exc:
        text = str(exc)
        if "password" in text or "authentication" in text:
            print(text.strip(), file=sys.stderr)
            return 2
        return 1
    return 0


def createdb(url: str) -> int:
    import psycopg
    from psycopg import sql

    name = _pg_params(url)["dbname"]
    with psycopg.connect(**_pg_params(url, "postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
    return 0


def redis(url: str) -> int:
    import redis as redis_lib

    try:
        redis_lib.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis_lib.exceptions.AuthenticationError:
        return 2
    except redis_lib.exceptions.RedisError:
        return 1
    return 0


def redis_shutdown(url: str) -> int:
    import redis as redis_lib

    # SHUTDOWN closes the connection when it succeeds.
    with contextlib.suppress(redis_lib.exceptions.ConnectionError):
        redis_lib.Redis.from_url(url, socket_connect_timeout=2).shutdown(nosave=True)
    return 0


def hostport(url: str) -> int:
    parts = urlsplit(url)
    default = 6379 if parts.scheme.startswith("redis") else 5432
    print(parts.hostname or "127.0.0.1", parts.port or default)
    return 0


if __name__ == "__main__":
    command, target = sys.argv[1], sys.argv[2]
    sys.exit(
        {
            "postgres": postgres,
            "createdb": createdb,
            "redis": redis,
            "redis-shutdown": redis_shutdown,
            "hostport": hostport,
        }[command](target)
    )
