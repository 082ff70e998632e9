#!/usr/bin/env bash
# with-postgres.sh COMMAND [ARG…]: runs COMMAND against a PostgreSQL server of its own, started for it
# and removed after it.
#
# - Installs Debian's `postgresql` package when `initdb`/`pg_ctl` are missing (as root, or with sudo).
# - Starts the server as an unprivileged user (when run as root: `postgres` if it exists, else a
#   `sluicepg` system user made for the purpose) in a new temporary data directory, listening on
#   127.0.0.1 only, on port $SLUICE_PGPORT (default 54329; the next free one if it is taken), with
#   trust authentication for loopback connections (a throwaway test server, reachable from this
#   machine only).
# - Creates the database, exports PGHOST/PGPORT/PGUSER/PGDATABASE (for psql) and the same values as
#   SLUICE_PGHOST/SLUICE_PGPORT/SLUICE_PGUSER/SLUICE_PGDATABASE (what the integration tests read), runs
#   COMMAND, and always stops the server and removes the directory (trap), returning COMMAND's status.
#
#   Integrations/scripts/with-postgres.sh swift test --package-path Integrations
#   Integrations/scripts/with-postgres.sh psql -c 'select version()'
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG…]" >&2
    exit 2
fi

log() { echo "with-postgres: $*" >&2; }

# --- binaries -------------------------------------------------------------------------------
find_bindir() {
    local dir
    # The newest installed major version first.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    return 1
}

if ! BINDIR=$(find_bindir); then
    log "initdb/pg_ctl not found: installing Debian's postgresql package"
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
            log "not root and no sudo: install PostgreSQL (initdb, pg_ctl) and run again"; exit 1
        fi
    fi
    # The package's own cluster is not wanted (and there is no init system to start it in a container).
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    BINDIR=$(find_bindir) || { log "postgresql installed but initdb/pg_ctl still not found"; exit 1; }
fi
log "using $("$BINDIR/postgres" --version) from $BINDIR"

# --- who runs the server ----------------------------------------------------------------------
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
    SERVER_USER=postgres
    if ! id -u "$SERVER_USER" >/dev/null 2>&1; then
        SERVER_USER=sluicepg
        if ! id -u "$SERVER_USER" >/dev/null 2>&1; then
            useradd --system --no-create-home --shell /usr/sbin/nologin "$SERVER_USER" 2>/dev/null \
                || adduser --system --no-create-home --disabled-login "$SERVER_USER" >/dev/null
        fi
    fi
    if command -v runuser >/dev/null 2>&1; then
        RUN_AS=(runuser -u "$SERVER_USER" --)
    else
        RUN_AS=(su -s /bin/sh "$SERVER_USER" -c '"$0" "$@"')
    fi
else
    SERVER_USER=$(id -un)
fi

# --- data directory, port ---------------------------------------------------------------------
DATA=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pg.XXXXXX")
chmod 700 "$DATA"
[ "$(id -u)" -eq 0 ] && chown "$SERVER_USER" "$DATA"

# The server's commands run from the data directory: the caller's directory may not be readable by
# the server's user.
as_server() { (cd "$DATA" && "${RUN_AS[@]}" "$@"); }

STARTED=0
cleanup() {
    local status=$?
    if [ "$STARTED" -eq 1 ]; then
        as_server "$BINDIR/pg_ctl" -D "$DATA/db" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DATA"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${SLUICE_PGPORT:-54329}
for _ in $(seq 50); do
    port_in_use "$PORT" || break
    PORT=$((PORT + 1))
done
port_in_use "$PORT" && { log "no free port from ${SLUICE_PGPORT:-54329} to $PORT"; exit 1; }

DB_USER=sluice
DB_NAME=sluice_test

as_server "$BINDIR/initdb" -D "$DATA/db" -U "$DB_USER" -A trust -E UTF8 --no-locale >"$DATA/initdb.log" 2>&1 \
    || { cat "$DATA/initdb.log" >&2; log "initdb failed"; exit 1; }

# Loopback only, socket in the data directory; fsync off: a throwaway test server whose data dies
# with it (a crash of the *server* is not what the tests simulate — a killed worker is).
OPTS="-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DATA -c fsync=off"
OPTS="$OPTS -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
if ! as_server "$BINDIR/pg_ctl" -D "$DATA/db" -o "$OPTS" -l "$DATA/server.log" -w -t 60 start >/dev/null; then
    cat "$DATA/server.log" >&2; log "the server did not start"; exit 1
fi
STARTED=1

"$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" "$DB_NAME" 2>/dev/null \
    || as_server "$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" "$DB_NAME"
log "PostgreSQL on 127.0.0.1:$PORT, database $DB_NAME, user $DB_USER (data in $DATA)"

export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=$DB_USER PGDATABASE=$DB_NAME
export SLUICE_PGHOST=$PGHOST SLUICE_PGPORT=$PGPORT SLUICE_PGUSER=$PGUSER SLUICE_PGDATABASE=$PGDATABASE
export PATH="$PATH:$BINDIR"

set +e
"$@"
status=$?
set -e
exit "$status"
