package io.pgwarden;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Acceptance 8: a bad config stops pgwarden before it opens a port, saying exactly what is wrong. */
class MainTest {

    @TempDir
    Path dir;

    private record Run(int exitCode, String out, String err) {
    }

    private Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = new CommandLine(new Main()).execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private Path config(String yaml) throws Exception {
        Path file = dir.resolve("pgwarden.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private static final String VALID = """
            listen:
              port: 0
            databases:
              appdb:
                port: 5432
            users:
              app:
                password: secret
            """;

    @Test
    void helpAndVersionWork() {
        Run help = run("--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("--config").contains("--version");
        Run version = run("--version");
        assertThat(version.exitCode()).isZero();
        assertThat(version.out()).startsWith("pgwarden ").doesNotContain("unknown");
    }

    @Test
    void checkAcceptsAValidConfig() throws Exception {
        Run run = run("--config", config(VALID).toString(), "--check");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("is valid");
    }

    @Test
    void rejectsAnUnknownKeyNamingItsPathAndTheLikelyKey() throws Exception {
        Run run = run("--config", config(VALID.replace("port: 5432", "port: 5432\n    max_szie: 3")).toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("databases.appdb.max_szie: unknown key; did you mean 'max_size'?");
    }

    @Test
    void rejectsABadDuration() throws Exception {
        Run run = run("--config", config(VALID + "defaults:\n  query_wait_timeout: 30 sec\n").toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("defaults.query_wait_timeout: '30 sec' is not a duration");
    }

    @Test
    void rejectsAMissingEnvironmentVariableNamingIt() throws Exception {
        Run run = run("--config", config(VALID.replace("password: secret",
                "password: ${PGWARDEN_TEST_SURELY_UNSET_VAR}")).toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("users.app.password: environment variable PGWARDEN_TEST_SURELY_UNSET_VAR is not set");
    }

    @Test
    void rejectsMinSizeAboveMaxSize() throws Exception {
        Run run = run("--config", config(VALID.replace("port: 5432", "port: 5432\n    min_size: 12\n    max_size: 10"))
                .toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("databases.appdb: min_size (12) must not exceed max_size (10)");
    }

    @Test
    void aTlsCertificateThatCannotBeReadIsAConfigurationErrorAtCheckAndAtStart() throws Exception {
        Path missing = dir.resolve("absent.crt");
        String yaml = VALID.replace("port: 0", "port: 0\n  tls: {mode: require, cert_file: " + missing
                + ", key_file: " + missing + "}");
        for (String[] args : List.of(new String[] {"--config", config(yaml).toString(), "--check"},
                new String[] {"--config", config(yaml).toString()})) {
            Run run = run(args);
            assertThat(run.exitCode()).isEqualTo(2);
            assertThat(run.err()).contains("listen.tls.cert_file: " + missing + " does not exist");
        }
    }

    @Test
    void rejectsAMissingFile() {
        Run run = run("--config", dir.resolve("absent.yaml").toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("absent.yaml");
    }
}
