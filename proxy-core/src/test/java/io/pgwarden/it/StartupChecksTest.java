package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.StartupChecks;
import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.LoadedConfig;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each deployment risk pgwarden can see at start leaves one WARN line saying what to do, and only then. */
class StartupChecksTest {

    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 6432);
    private static final InetSocketAddress ANY = new InetSocketAddress("0.0.0.0", 6432);
    private static final InetSocketAddress HTTP_LOOPBACK = new InetSocketAddress("127.0.0.1", 9187);
    private static final InetSocketAddress HTTP_ANY = new InetSocketAddress("0.0.0.0", 9187);
    /** An unprivileged JVM with a bounded heap: nothing to warn about. */
    private static final StartupChecks.Process SAFE =
            new StartupChecks.Process(false, List.of("-Xmx512m", "-XX:+UseZGC"), null, 512L << 20);

    @TempDir
    Path dir;

    private static final String ENV_PASSWORD = """
            databases:
              appdb: {}
            users:
              app:
                password: ${APP_PASSWORD}
            """;

    private static LoadedConfig config(String yaml) throws Exception {
        return new ConfigLoader(Map.of("APP_PASSWORD", "s3cret")).read(yaml, "test");
    }

    private Path file(String yaml, String permissions) throws Exception {
        Path file = dir.resolve("pgwarden.yaml");
        Files.writeString(file, yaml);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
        return file;
    }

    private static List<String> warnings(StartupChecks.Process process, LoadedConfig config, Path file,
                                         InetSocketAddress listen, InetSocketAddress http) {
        try (LogCapture log = new LogCapture()) {
            new StartupChecks(process).run(config, file, listen, false, http);
            return log.lines("event=");
        }
    }

    @Test
    void aSafeDeploymentGetsNoWarning() throws Exception {
        String yaml = ENV_PASSWORD + "admin:\n  http:\n    host: 0.0.0.0\n    metrics_token: ${APP_PASSWORD}\n";
        assertThat(warnings(SAFE, config(yaml), file(yaml, "rw-r--r--"), LOOPBACK, HTTP_ANY)).isEmpty();
    }

    @Test
    void runningAsRootIsWarnedAbout() throws Exception {
        StartupChecks.Process root = new StartupChecks.Process(true, SAFE.jvmArguments(), null, SAFE.maxHeapBytes());
        assertThat(warnings(root, config(ENV_PASSWORD), null, LOOPBACK, null)).singleElement().asString()
                .startsWith("event=running_as_root ").contains("run it as an unprivileged user");
    }

    @Test
    void aConfigFileOthersCanReadIsWarnedAboutOnlyWhenItSpellsOutAPassword() throws Exception {
        String plain = ENV_PASSWORD.replace("${APP_PASSWORD}", "in-the-file");
        assertThat(warnings(SAFE, config(plain), file(plain, "rw-r--r--"), LOOPBACK, null)).singleElement()
                .asString().isEqualTo("event=config_secrets_readable file=\"" + dir.resolve("pgwarden.yaml")
                        + "\" permissions=rw-r--r-- secrets=\"users.app.password\" detail=\"the file holds these"
                        + " secrets in plain text and every user can read it; chmod 600 it, or write each secret as a"
                        + " ${VARIABLE} set in pgwarden's environment\"")
                .doesNotContain("in-the-file");
        assertThat(warnings(SAFE, config(plain), file(plain, "rw-r-----"), LOOPBACK, null)).singleElement()
                .asString().contains("its group can read it");
        assertThat(warnings(SAFE, config(plain), file(plain, "rw-------"), LOOPBACK, null))
                .as("only its owner can read it").isEmpty();
        assertThat(warnings(SAFE, config(ENV_PASSWORD), file(ENV_PASSWORD, "rw-r--r--"), LOOPBACK, null))
                .as("the password comes from the environment").isEmpty();
    }

    @Test
    void listeningBeyondLoopbackWithoutTlsIsWarnedAbout() throws Exception {
        assertThat(warnings(SAFE, config(ENV_PASSWORD), null, ANY, null)).singleElement().asString()
                .startsWith("event=listen_unencrypted addr=/0.0.0.0:6432 ").contains("listen on 127.0.0.1");
        try (LogCapture log = new LogCapture()) {
            new StartupChecks(SAFE).run(config(ENV_PASSWORD), null, ANY, true, null);
            assertThat(log.lines("event=")).as("with TLS on").isEmpty();
        }
    }

    @Test
    void metricsOpenBeyondLoopbackWithoutATokenAreWarnedAbout() throws Exception {
        String yaml = ENV_PASSWORD + "admin:\n  http:\n    host: 0.0.0.0\n";
        assertThat(warnings(SAFE, config(yaml), null, LOOPBACK, HTTP_ANY)).singleElement().asString()
                .startsWith("event=http_metrics_open addr=/0.0.0.0:9187 ").contains("set admin.http.metrics_token");
        assertThat(warnings(SAFE, config(yaml), null, LOOPBACK, HTTP_LOOPBACK)).isEmpty();
    }

    @Test
    void aHeapLeftToTheJvmsDefaultIsWarnedAboutWithTheOptionsToUse() throws Exception {
        StartupChecks.Process unbounded = new StartupChecks.Process(false, List.of("-XX:+UseZGC"), null, 6L << 30);
        assertThat(warnings(unbounded, config(ENV_PASSWORD), null, LOOPBACK, null)).singleElement().asString()
                .startsWith("event=heap_unbounded max_heap_mb=6144 ").contains("-Xmx96m -XX:MaxDirectMemorySize=64m");
        for (StartupChecks.Process bounded : List.of(
                new StartupChecks.Process(false, List.of("-XX:MaxRAMPercentage=75"), null, 1L << 30),
                new StartupChecks.Process(false, List.of(), "-XX:+UseZGC -Xmx256m", 1L << 28))) {
            assertThat(warnings(bounded, config(ENV_PASSWORD), null, LOOPBACK, null)).as("%s", bounded).isEmpty();
        }
    }
}
