# Start and stop the throwaway PostgreSQL and Redis servers the tests use.
# Sourced by .ci/run; usable by hand: source .ci/services.sh; start_postgres.
CI_TMP="${CI_TMP:-$(mktemp -d /tmp/newsreader-ci.XXXXXX)}"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PG_PORT="${PG_PORT:-$(free_port)}"
REDIS_PORT="${REDIS_PORT:-$(free_port)}"

start_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  chown -R postgres "$CI_TMP" 2>/dev/null || true
  chmod 755 "$CI_TMP"
  local as=()
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  # From a folder the postgres user may enter (the clone may be in root's home).
  (
    cd "$CI_TMP"
    "${as[@]}" "$bin/initdb" -D "$CI_TMP/pg" -U newsreader --auth=trust -E UTF8 >/dev/null
    "${as[@]}" "$bin/pg_ctl" -D "$CI_TMP/pg" -l "$CI_TMP/pg.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $CI_TMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null || { cat "$CI_TMP/pg.log"; exit 1; }
    "${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U newsreader newsreader
  ) || return 1
  PG_BIN="$bin"
  export PG_URL="postgres://newsreader@127.0.0.1:$PG_PORT/newsreader"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

start_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --pidfile "$CI_TMP/redis.pid" --logfile "$CI_TMP/redis.log" >/dev/null
  export TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  echo "Redis on 127.0.0.1:$REDIS_PORT"
}

stop_services() {
  local as=()
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  [ -n "${PG_BIN:-}" ] && (cd "$CI_TMP" && "${as[@]}" "$PG_BIN/pg_ctl" -D "$CI_TMP/pg" -m fast stop >/dev/null 2>&1) || true
  [ -f "$CI_TMP/redis.pid" ] && kill "$(cat "$CI_TMP/redis.pid")" 2>/dev/null || true
  rm -rf "$CI_TMP"
}
