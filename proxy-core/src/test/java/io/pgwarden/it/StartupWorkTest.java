package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19, start-up: what pgwarden does between {@code java} and its first login, checked by the classes the JVM
 * loaded (a regression guard that no timing on a shared machine could be). Each item here cost a noticeable share
 * of the time to the first login: logback's XML configuration (an XML parser and Joran's model), Netty's JFR
 * events (JFR's metadata, at the first buffer allocation), the management beans behind the JVM's argument list,
 * picocli's reading of its annotations, and the metrics' exemplar sampler with its thread. The log must read as
 * before.
 */
class StartupWorkTest {

    /** The line format logback.xml used to give: {@code %d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} - %msg%n}. */
    private static final Pattern LISTEN_LINE = Pattern.compile(
            "(?m)^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) INFO  ProxyApplication"
                    + " - event=listen addr=\\S+ ");

    @TempDir
    Path dir;

    private String config() {
        return """
                listen:
                  host: 127.0.0.1
                  port: 0
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: %d
                users:
                  md5user:
                    password: %s
                    auth: md5
                """.formatted(TestPostgres.shared().port(), TestPostgres.MD5_PASSWORD);
    }

    @Test
    void theFirstLoginNeedsNoXmlParserJfrMetadataManagementBeansPicocliOrExemplarThread() throws Exception {
        Path classes = dir.resolve("classes.log");
        String output;
        try (PgwardenProcess proxy = PgwardenProcess.start(dir, "start", config(),
                List.of("-Xmx96m", "-Xlog:class+load=info:file=" + classes), Map.of())) {
            int port = proxy.awaitListening();
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/appdb",
                    "md5user", TestPostgres.MD5_PASSWORD); Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SELECT 1")) {
                assertThat(r.next()).isTrue();
            }
            proxy.awaitLog("event=client_login");
            output = proxy.output();
        }
        String loaded = Files.readString(classes);
        assertThat(loaded).contains("io.pgwarden.frontend.ClientHandler");
        assertThat(loaded)
                .doesNotContain("com.sun.org.apache.xerces.")
                .doesNotContain("ch.qos.logback.core.model.")
                .doesNotContain("jdk.jfr.internal.MetadataLoader")
                .doesNotContain("java.lang.management.ManagementFactory ")
                .doesNotContain("picocli.CommandLine ")
                .doesNotContain("io.prometheus.metrics.core.util.Scheduler");
        assertThat(output).containsPattern(LISTEN_LINE);
    }

    /** The built-in configuration still takes its root level from PGWARDEN_LOG_LEVEL, as logback.xml did. */
    @Test
    void pgwardenLogLevelStillSetsTheLevel() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        String output;
        try (PgwardenProcess proxy = PgwardenProcess.start(dir, "quiet", config().replace("port: 0",
                "port: " + port), List.of("-Xmx96m"), Map.of("PGWARDEN_LOG_LEVEL", "WARN"))) {
            // The file holds a password and others may read it: a WARN line at start.
            proxy.awaitLog("event=config_secrets_readable");
            try (Connection c = Awaitility.await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                    .until(() -> DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/appdb",
                            "md5user", TestPostgres.MD5_PASSWORD), java.util.Objects::nonNull)) {
                assertThat(c.isValid(5)).isTrue();
            }
            proxy.terminate();
            assertThat(proxy.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
            output = proxy.output();
        }
        assertThat(output).contains(" WARN  StartupChecks - event=config_secrets_readable")
                .doesNotContain(" INFO ");
    }
}
