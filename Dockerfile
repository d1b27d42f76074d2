# syntax=docker/dockerfile:1
# Build: docker build -t pgwarden .
# Run:   docker run -p 6432:6432 -e APP_PASSWORD=... -v $PWD/pgwarden.yaml:/etc/pgwarden/pgwarden.yaml:ro pgwarden
# (in the mounted config, listen.host must be 0.0.0.0 so the published port reaches the proxy, and admin.http.host
#  must be 0.0.0.0 for probes and scrapes from outside the container: both default to loopback; add -p 9187:9187)

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
# Poms first, so dependency downloads are cached until a pom changes.
COPY pom.xml ./
COPY test-support/pom.xml test-support/
COPY protocol/pom.xml protocol/
COPY config/pom.xml config/
COPY proxy-core/pom.xml proxy-core/
COPY bench/pom.xml bench/
RUN mvn -B -q -pl test-support,protocol,config dependency:go-offline || true
COPY test-support test-support
COPY protocol protocol
COPY config config
COPY proxy-core proxy-core
COPY examples examples
# Tests need an embedded PostgreSQL and run in CI; the image only packages the proxy.
RUN mvn -B -q -pl proxy-core -am -DskipTests package

FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 pgwarden \
 && useradd --system --uid 10001 --gid pgwarden --home-dir /nonexistent --shell /usr/sbin/nologin pgwarden \
 && mkdir -p /etc/pgwarden /opt/pgwarden
COPY --from=build /src/proxy-core/target/pgwarden.jar /opt/pgwarden/pgwarden.jar
COPY --from=build /src/examples/pgwarden.yaml /opt/pgwarden/pgwarden.example.yaml
EXPOSE 6432 9187
# The JRE image has no curl or wget: bash's /dev/tcp sends the request. It runs inside the container, so it reaches
# admin.http on loopback or 0.0.0.0 alike; without an admin.http section the container reports unhealthy. Set
# PGWARDEN_HTTP_PORT when admin.http.port is not 9187.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PGWARDEN_HTTP_PORT:-9187} && printf 'GET /health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r -t 4 _ status _ <&3 && [ \"$status\" = 200 ]"]
# Netty extracts its native libraries (io_uring, epoll, BoringSSL) to /tmp and loads them from there: with a read-only root
# file system, mount a writable tmpfs at /tmp that allows exec (docker run --read-only --tmpfs /tmp:rw,exec), or
# an emptyDir in Kubernetes. Without one pgwarden still runs, on NIO and the JDK's TLS, slower.
# JVM options chosen from bench/results/footprint.md (bench/run.sh --footprint, 2 shared cores): resident size
# about 80-95 MiB after start, up to 105 MiB with 100 active clients and 130 MiB with 10,000 idle ones (the
# earlier ZGC options: 140, 240 and 480 MiB), no collector pause above 10 ms.
# - Shenandoah collects concurrently: its pauses stayed under 6.5 ms, where G1 and Serial paused 24-207 ms while
#   10,000 clients logged in. Unlike Java 17's ZGC it compresses references and maps the heap once (ZGC's triple
#   mapping shows in the resident size).
# - -Xmx96m bounds the heap (10,000 idle clients hold about 27 MB of it), -XX:MaxDirectMemorySize=64m Netty's
#   buffers (a junk connection flood took the RSS to 2 GB without caps). Raise -Xmx for tens of thousands of
#   clients or many distinct prepared statements (-e JAVA_TOOL_OPTIONS=..., keeping the other options).
# - -XX:-TieredCompilation -XX:CICompilerCount=1: C2 alone, on one compiler thread. C2's code takes about half
#   the user CPU per transaction of C1's; without C1's tiers there is no profiled code and no second compiler,
#   which is where tiered C2 spent 40-50 MiB more than C1 only.
# - -XX:ShenandoahGCHeuristics=compact collects in smaller steps, so the heap stays smaller (10,000 idle clients:
#   about 130 MiB resident instead of 180), at the same proxy CPU per transaction in the same runs.
# - The class-data archive (AppCDS) holds the classes a start loads, written by the training start below; it cut
#   the time to the first login by a quarter to a half. Where the file does not match, the JVM starts without it.
# The README's commands and bench/run.sh use the same options, without the archive.
RUN APP_PASSWORD=cds-training bash -c 'java -Xms16m -Xmx96m -XX:MaxDirectMemorySize=64m \
      -XX:+UseShenandoahGC -XX:ShenandoahGCHeuristics=compact -XX:-TieredCompilation -XX:CICompilerCount=1 \
      -XX:ArchiveClassesAtExit=/opt/pgwarden/pgwarden.jsa \
      -jar /opt/pgwarden/pgwarden.jar --config /opt/pgwarden/pgwarden.example.yaml > /tmp/cds-training.log 2>&1 & \
    pid=$!; for _ in $(seq 600); do grep -q "event=listen addr" /tmp/cds-training.log && break; kill -0 $pid || break; \
      sleep 0.1; done; (exec 3<>/dev/tcp/127.0.0.1/6432) 2>/dev/null; sleep 1; kill -TERM $pid; wait $pid; \
    rm -f /tmp/cds-training.log; test -s /opt/pgwarden/pgwarden.jsa'
USER 10001:10001
ENV JAVA_TOOL_OPTIONS="-Xms16m -Xmx96m -XX:MaxDirectMemorySize=64m -XX:+UseShenandoahGC -XX:ShenandoahGCHeuristics=compact -XX:-TieredCompilation -XX:CICompilerCount=1 -XX:SharedArchiveFile=/opt/pgwarden/pgwarden.jsa -XX:+ExitOnOutOfMemoryError"
ENTRYPOINT ["java", "-jar", "/opt/pgwarden/pgwarden.jar"]
CMD ["--config", "/etc/pgwarden/pgwarden.yaml"]
