"""Start or stop a PostgreSQL or Redis for `make test` from the pip packages the app already depends on.

Used by scripts/services.sh when nothing answers on the test URLs: the same server binaries as the
embedded default (cxm.embedded), but listening on the loopback port the URL names, without a password.

    python scripts/local_services.py postgres-start DATA_DIR PORT
    python scripts/local_services.py postgres-stop DATA_DIR
    python scripts/local_services.py redis-start DATA_DIR PORT
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cxm import embedded


def postgres_start(data: Path, port: int) -> None:
    data.parent.mkdir(parents=True, exist_ok=True)
    # The package initializes the cluster (as an unprivileged user when run as root, as initdb requires)
    # and starts it on a socket only; restart it on the port the test URL names.
    server = embedded.postgres_server(data)
    package = embedded.postgres_package()
    package.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data, user=server.system_user)
    package.pg_ctl(
        ["-w", "-o", f"-h 127.0.0.1 -p {port} -k {data}", "-l", str(data / "log"), "start"],
        pgdata=data,
        user=server.system_user,
        timeout=60,
    )


def _stop_at(data: Path) -> None:
    server = embedded.postgres_server(data)
    embedded.postgres_package().pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data, user=server.system_user)


def redis_start(data: Path, port: int) -> None:
    data.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            embedded.redis_binary(), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
            "--appendonly", "no", "--dir", str(data), "--daemonize", "yes",
            "--pidfile", str(data / "redis.pid"), "--logfile", str(data / "redis.log"),
        ],
        check=True,
        timeout=30,
    )  # fmt: skip


def main(argv: list[str]) -> int:
    command, folder, *rest = argv
    data = Path(folder).resolve()
    if command == "postgres-start":
        postgres_start(data, int(rest[0]))
    elif command == "postgres-stop":
        _stop_at(data)
    elif command == "redis-start":
        redis_start(data, int(rest[0]))
    else:
        print(f"unknown command {command!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
