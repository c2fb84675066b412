#!/usr/bin/env bash
# Entrypoint of doorbuster/postgres:15. Behaves like the official `postgres` image's entrypoint as far as
# the harness relies on it (see docker/images/README.md):
#   - `IMAGE`, `IMAGE postgres -c k=v ...` or `IMAGE -c k=v ...` run the server; any other command is exec'd as is;
#   - started as root: owns $PGDATA and /var/run/postgresql for postgres, then drops to postgres (setpriv);
#   - empty $PGDATA: initdb, a temporary unix-socket-only server for POSTGRES_DB and
#     /docker-entrypoint-initdb.d/*, then the real server. The temporary and the real server each log
#     "database system is ready to accept connections", so a first start logs it twice, a restart once.
set -Eeo pipefail

log() { echo "$(date '+%F %T.%3N %Z') [entrypoint] $*"; }
fail() { echo "$(date '+%F %T.%3N %Z') [entrypoint] error: $*" >&2; exit 1; }

# VAR or VAR_FILE (a file holding the value, as with Docker secrets); not both.
env_or_file() {
  local var="$1" default="${2:-}" file_var="${1}_FILE" value
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    fail "both $var and $file_var are set; use one"
  fi
  value="$default"
  if [ -n "${!var:-}" ]; then
    value="${!var}"
  elif [ -n "${!file_var:-}" ]; then
    value="$(<"${!file_var}")"
  fi
  export "$var"="$value"
  unset "$file_var"
}

# True when the postgres command line only asks for help or the version: no setup then.
wants_no_setup() {
  local arg
  for arg; do
    case "$arg" in
      '-?' | --help | --describe-config | -V | --version) return 0 ;;
    esac
  done
  return 1
}

setup_env() {
  env_or_file POSTGRES_PASSWORD
  env_or_file POSTGRES_USER postgres
  env_or_file POSTGRES_DB "$POSTGRES_USER"
  env_or_file POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=}"
  export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
  DATABASE_ALREADY_EXISTS=
  if [ -s "$PGDATA/PG_VERSION" ]; then DATABASE_ALREADY_EXISTS=true; fi
}

# As root: directories belong to postgres, then this script runs again as postgres.
prepare_dirs() {
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" || :
  mkdir -p /var/run/postgresql
  chmod 03775 /var/run/postgresql || :
  if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
    mkdir -p "$POSTGRES_INITDB_WALDIR"
    if [ "$(id -u)" = 0 ]; then find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres '{}' +; fi
    chmod 00700 "$POSTGRES_INITDB_WALDIR" || :
  fi
  if [ "$(id -u)" = 0 ]; then
    find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
    find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
  fi
}

check_settings() {
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    fail "the database is uninitialized and POSTGRES_PASSWORD is not set.
  Set POSTGRES_PASSWORD (superuser password for remote connections), or POSTGRES_HOST_AUTH_METHOD=trust
  to allow every connection without a password (tests only)."
  fi
  if [ "${#POSTGRES_PASSWORD}" -gt 100 ]; then
    log "warning: POSTGRES_PASSWORD is longer than 100 characters; some clients may not cope"
  fi
}

run_initdb() {
  local args=(--username="$POSTGRES_USER")
  if [ -n "$POSTGRES_PASSWORD" ]; then
    # the password goes through a file, never through the command line
    local pwfile
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    args+=(--pwfile="$pwfile")
  fi
  if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then args+=(--waldir="$POSTGRES_INITDB_WALDIR"); fi
  # POSTGRES_INITDB_ARGS is split on spaces, as in the official image
  # shellcheck disable=SC2086
  initdb "${args[@]}" $POSTGRES_INITDB_ARGS
  if [ -n "${pwfile:-}" ]; then rm -f "$pwfile"; fi
}

# Remote connections: the given method, or, when a password is set, the server's password_encryption
# (scram-sha-256 unless the config or `-c password_encryption=md5` says md5), trust otherwise.
# Arguments: the server's command-line options.
setup_hba() {
  local method="$POSTGRES_HOST_AUTH_METHOD"
  if [ -z "$method" ]; then
    if [ -n "$POSTGRES_PASSWORD" ]; then
      method="$(postgres -D "$PGDATA" -C password_encryption "$@" 2>/dev/null || echo scram-sha-256)"
    else
      method=trust
    fi
  fi
  printf '\nhost all all all %s\n' "$method" >>"$PGDATA/pg_hba.conf"
}

temp_server_start() {
  # only the unix socket: nothing outside the container can reach a half-initialised database
  local opts
  opts="$(printf '%q ' "$@" -c listen_addresses= -p "${PGPORT:-5432}")"
  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -o "$opts" -w start
}

temp_server_stop() {
  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -m fast -w stop
}

psql_setup() {
  PGHOST=/var/run/postgresql PGHOSTADDR= PGPORT="${PGPORT:-5432}" \
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

create_db() {
  local exists
  exists="$(psql_setup --dbname postgres -tA --set db="$POSTGRES_DB" <<'EOSQL'
SELECT 1 FROM pg_database WHERE datname = :'db';
EOSQL
)"
  if [ -z "$exists" ]; then
    psql_setup --dbname postgres --set db="$POSTGRES_DB" <<'EOSQL'
CREATE DATABASE :"db";
EOSQL
  fi
}

run_init_files() {
  local f
  echo
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then
          log "running $f"
          "$f"
        else
          log "sourcing $f"
          # shellcheck disable=SC1090
          . "$f"
        fi
        ;;
      *.sql) log "running $f"; psql_setup --dbname "$POSTGRES_DB" -f "$f"; echo ;;
      *.sql.gz) log "running $f"; gunzip -c "$f" | psql_setup --dbname "$POSTGRES_DB"; echo ;;
      *) log "ignoring $f" ;;
    esac
  done
}

main() {
  # `IMAGE -c fsync=off` means `IMAGE postgres -c fsync=off`
  if [ "${1:0:1}" = - ]; then set -- postgres "$@"; fi

  if [ "$1" = postgres ] && ! wants_no_setup "$@"; then
    setup_env
    prepare_dirs
    if [ "$(id -u)" = 0 ]; then
      export HOME=/var/lib/postgresql
      exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
    fi

    if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
      check_settings
      ls /docker-entrypoint-initdb.d/ >/dev/null
      run_initdb
      setup_hba "${@:2}"
      # init scripts that connect over TCP find the password here, as with the official image
      export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
      temp_server_start "${@:2}"
      if [ "$POSTGRES_DB" != postgres ]; then create_db; fi
      run_init_files
      temp_server_stop
      unset PGPASSWORD
      echo
      log "PostgreSQL init process complete; ready for start up."
      echo
    else
      echo
      log "PostgreSQL Database directory appears to contain a database; Skipping initialization"
      echo
    fi
  fi

  exec "$@"
}

main "$@"
