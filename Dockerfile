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
USER 10001:10001
EXPOSE 6432 9187
# The JRE image has no curl or wget: bash's /dev/tcp sends the request. It runs inside the container, so it reaches
# admin.http on loopback or 0.0.0.0 alike; without an admin.http section the container reports unhealthy. Set
# PGWARDEN_HTTP_PORT when admin.http.port is not 9187.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PGWARDEN_HTTP_PORT:-9187} && printf 'GET /health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r -t 4 _ status _ <&3 && [ \"$status\" = 200 ]"]
# Netty extracts its native libraries (epoll, BoringSSL) to /tmp and loads them from there: with a read-only root
# file system, mount a writable tmpfs at /tmp that allows exec (docker run --read-only --tmpfs /tmp:rw,exec), or
# an emptyDir in Kubernetes. Without one pgwarden still runs, on NIO and the JDK's TLS, slower.
# ZGC: its pauses stay under a millisecond, where G1's young collections reached 10-18 ms while thousands of
# clients logged in. SoftMaxHeapSize makes it collect before the heap grows far past what pgwarden keeps live
# (about 45 MB with 10,000 clients); without it ZGC lets the heap, and the RSS, grow towards the maximum.
# Raise it above 4 KiB per expected client. -Xmx and MaxDirectMemorySize bound the heap and Netty's buffers (a junk
# connection flood took the RSS to 2 GB without a cap); for a container limit under about 2 GB, lower both with
# -e JAVA_TOOL_OPTIONS=... The README's commands and bench/run.sh use the same options.
ENV JAVA_TOOL_OPTIONS="-Xmx1g -XX:MaxDirectMemorySize=512m -XX:+UseZGC -XX:SoftMaxHeapSize=256m -XX:+ExitOnOutOfMemoryError"
ENTRYPOINT ["java", "-jar", "/opt/pgwarden/pgwarden.jar"]
CMD ["--config", "/etc/pgwarden/pgwarden.yaml"]
