#!/usr/bin/env bash
# Builds pgwarden and runs the benchmark harness (io.pgwarden.bench.Harness) from the repository root.
#   bench/run.sh --quick          # smoke run, about 2 minutes
#   bench/run.sh                  # the full matrix, about 25 minutes
#   bench/run.sh --footprint      # RSS, GC pauses and start-up per JVM option set, about 10 minutes
#   bench/run.sh --transports io_uring,epoll,nio --workloads select   # pgwarden per transport: syscalls.md
#   bench/run.sh --help           # all options
# Set PGWARDEN_BENCH_SKIP_BUILD=1 to reuse the jars already built.
set -euo pipefail
cd "$(dirname "$0")/.."

# pgbench with 2000 clients, and each proxy in front of them, need a descriptor per connection (--footprint's
# 10,000 idle clients one each in the harness and in the proxy).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if [ "${PGWARDEN_BENCH_SKIP_BUILD:-0}" != 1 ]; then
  mvn -B -q -DskipTests install
fi
# The harness starts pgwarden itself, with the Dockerfile's options (Proxy.RECOMMENDED_JVM_OPTIONS); its own
# heap is bounded too, since it holds the idle clients' sockets.
exec java -Xmx2g -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true -cp bench/target/pgwarden-demo.jar io.pgwarden.bench.Harness "$@"
