package io.pgwarden;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.it.TestPostgres;
import io.pgwarden.it.TestProxy;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The image cannot be built here (no Docker engine), so what can be checked without one is checked: the JVM options
 * the container starts with are well quoted and accepted by a Java 17 JVM, or the container would not start.
 * Issue 18: the image runs as a non-root user, publishes the proxy and HTTP ports, and tells Docker whether the
 * proxy serves. The JRE image has no curl, so the health check is a bash command: it is run here, as Docker would
 * run it, against a live proxy and against a port nobody serves. (Docker itself is checked by ImageTest, where an
 * engine exists.)
 */
class DockerfileTest {

    private static final Pattern TOOL_OPTIONS = Pattern.compile("(?m)^ENV JAVA_TOOL_OPTIONS=\"([^\"]*)\"$");

    @Test
    void theContainersJvmOptionsAreAcceptedByJava17() throws Exception {
        String dockerfile = Files.readString(Path.of("..", "Dockerfile"));
        Matcher m = TOOL_OPTIONS.matcher(dockerfile);
        assertThat(m.find()).as("one ENV JAVA_TOOL_OPTIONS=\"...\" line, quotes balanced").isTrue();

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(m.group(1).trim().split("\\s+")));
        command.add("-version");
        Process java = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(java.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(java.getInputStream().readAllBytes());
        assertThat(java.exitValue()).as("java %s -version said: %s", m.group(1), output).isZero();
        assertThat(output).doesNotContain("Unrecognized", "Error");
    }

    /** The instructions of the last stage, the image that ships, with continuation lines joined. */
    private static List<String> runtimeStage() throws Exception {
        String joined = Files.readString(Path.of("..", "Dockerfile")).replaceAll("\\\\\\n\\s*", " ");
        List<String> stage = new ArrayList<>();
        for (String line : joined.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            if (trimmed.startsWith("FROM ")) {
                stage.clear();
            }
            stage.add(trimmed);
        }
        return stage;
    }

    private static List<String> instructions(String keyword) throws Exception {
        return runtimeStage().stream().filter(l -> l.startsWith(keyword + " "))
                .map(l -> l.substring(keyword.length() + 1).strip()).toList();
    }

    @SuppressWarnings("unchecked")
    private static List<String> healthCheckCommand() throws Exception {
        List<String> checks = instructions("HEALTHCHECK");
        assertThat(checks).as("HEALTHCHECK in the runtime stage").hasSize(1);
        String check = checks.get(0);
        assertThat(check).contains("CMD [");
        // Exec form: a JSON array, which SnakeYAML reads as a flow sequence.
        return (List<String>) new Yaml().load(check.substring(check.indexOf("CMD [") + 4));
    }

    @Test
    void theImageRunsAsANonRootUserAndPublishesTheProxyAndHttpPorts() throws Exception {
        assertThat(instructions("FROM")).containsExactly("eclipse-temurin:17-jre");
        List<String> users = instructions("USER");
        assertThat(users).isNotEmpty();
        assertThat(users.get(users.size() - 1)).isEqualTo("10001:10001");
        assertThat(runtimeStage().stream().filter(l -> l.startsWith("RUN ")).findFirst().orElseThrow())
                .contains("--uid 10001");
        assertThat(instructions("EXPOSE").stream().flatMap(e -> Arrays.stream(e.split("\\s+"))))
                .containsExactlyInAnyOrder("6432", "9187");
        assertThat(instructions("HEALTHCHECK").get(0)).contains("--interval=", "--timeout=", "--start-period=");
    }

    @Test
    void theHealthCheckPassesWhileTheProxyServesAndFailsWhereNothingAnswers() throws Exception {
        List<String> command = healthCheckCommand();
        assertThat(command).startsWith("bash", "-c");
        assertThat(command.get(2)).contains("/health");

        String yaml = """
                listen:
                  host: 127.0.0.1
                  port: 0
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                users:
                  app:
                    password: ${APP_PASSWORD}
                admin:
                  http:
                    host: 0.0.0.0
                    port: 0
                """;
        try (TestProxy proxy = TestProxy.fromYaml(() -> yaml, TestPostgres.shared().port())) {
            assertThat(run(command, proxy.application().httpAddress().getPort())).isZero();
        }
        int unserved;
        try (ServerSocket free = new ServerSocket(0)) {
            unserved = free.getLocalPort();
        }
        assertThat(run(command, unserved)).isNotZero();
    }

    @Test
    void theHealthCheckFailsOnAnAnswerOtherThan200() throws Exception {
        List<String> command = healthCheckCommand();
        try (ServerSocket server = new ServerSocket(0)) {
            Thread answer = new Thread(() -> {
                try (var socket = server.accept()) {
                    socket.getOutputStream().write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                } catch (java.io.IOException ignored) {
                    // The check's exit code is what is asserted.
                }
            });
            answer.start();
            assertThat(run(command, server.getLocalPort())).isNotZero();
            answer.join(10_000);
        }
    }

    private static int run(List<String> command, int port) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("PGWARDEN_HTTP_PORT", String.valueOf(port));
        Process process = builder.start();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the health check did not finish within 10 s");
        }
        return process.exitValue();
    }
}
