#!/usr/bin/env bash
# First side-by-side figure: pgbench -S through direct PostgreSQL, pgwarden and PgBouncer, in the same run,
# alternating targets so machine drift hits all of them alike. (The full harness is issue #6.)
#
# Usage: bench/scripts/pgbench-compare.sh PG_PORT PGWARDEN_PORT [CLIENTS] [SECONDS] [ROUNDS]
# Expects a PostgreSQL on 127.0.0.1:PG_PORT with user app / password app and database appdb
# (what `java -jar bench/target/pgwarden-demo.jar` starts), and pgwarden on PGWARDEN_PORT in front of it.
# PgBouncer (apt-get install -y pgbouncer) is started here in transaction mode with the same pool size;
# without it, its column is skipped.
set -euo pipefail
pg_port=${1:?PG_PORT}; warden_port=${2:?PGWARDEN_PORT}; clients=${3:-50}; seconds=${4:-15}; rounds=${5:-2}
bouncer_port=6433; pool_size=20
export PGPASSWORD=app PGUSER=app
work=$(mktemp -d); trap 'kill $(cat "$work/pgbouncer.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

pgbench -h 127.0.0.1 -p "$pg_port" -i -s 10 -q appdb >/dev/null 2>&1

targets=("direct:$pg_port" "pgwarden:$warden_port")
if command -v pgbouncer >/dev/null; then
  cat > "$work/pgbouncer.ini" <<INI
[databases]
appdb = host=127.0.0.1 port=$pg_port dbname=appdb
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
auth_type = scram-sha-256
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = $pool_size
max_client_conn = 5000
unix_socket_dir =
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
INI
  echo '"app" "app"' > "$work/userlist.txt"
  if [ "$(id -u)" = 0 ]; then
    # PgBouncer refuses to run as root; the Debian package's postgres user will do.
    chmod 755 "$work"; chown -R postgres "$work"
    pgbouncer -d -u postgres "$work/pgbouncer.ini"
  else
    pgbouncer -d "$work/pgbouncer.ini"
  fi
  for _ in $(seq 1 50); do [ -s "$work/pgbouncer.pid" ] && break; sleep 0.1; done
  targets+=("pgbouncer:$bouncer_port")
fi

declare -A sum
for round in $(seq 1 "$rounds"); do
  for t in "${targets[@]}"; do
    name=${t%%:*}; port=${t##*:}
    tps=$(pgbench -h 127.0.0.1 -p "$port" -S -n -M simple -c "$clients" -j 2 -T "$seconds" appdb 2>/dev/null \
          | awk '/^tps/ {print int($3); exit}')
    echo "round $round $name: $tps tps"
    sum[$name]=$(( ${sum[$name]:-0} + tps ))
  done
done
echo
echo "| target | mean TPS (-S -c $clients -T $seconds, $rounds rounds) | vs direct |"
echo "|---|---|---|"
for t in "${targets[@]}"; do
  name=${t%%:*}; mean=$(( sum[$name] / rounds ))
  echo "| $name | $mean | $(awk -v a="$mean" -v b="$(( sum[direct] / rounds ))" 'BEGIN {printf "%.2f", a/b}') |"
done
