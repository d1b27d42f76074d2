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
import org.junit.jupiter.api.io.TempDir;
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

    private static final Pattern TRAINING_JAVA = Pattern.compile("\\bjava((?:\\s+-X\\S+)+)\\s+-jar\\s+(\\S+)");

    /**
     * Issue 19: the image's JVM maps a class-data archive (AppCDS) that a training start at build time writes. The
     * training start here, with pgwarden's classes in one jar as in the image and /opt/pgwarden moved to a temporary
     * directory, must write an archive that the container's options then map (-Xshare:on fails the start where
     * they cannot), and the training JVM must run with the container's options, which the archive records.
     */
    @Test
    void theImagesTrainingStartWritesAClassDataArchiveTheContainersOptionsMap(@TempDir Path dir) throws Exception {
        Matcher m = TOOL_OPTIONS.matcher(Files.readString(Path.of("..", "Dockerfile")));
        assertThat(m.find()).isTrue();
        List<String> runtime = List.of(m.group(1).trim().split("\\s+"));
        List<String> archives = runtime.stream().filter(o -> o.startsWith("-XX:SharedArchiveFile=")).toList();
        assertThat(archives).hasSize(1);
        String archive = archives.get(0).substring("-XX:SharedArchiveFile=".length());

        List<String> trainings = instructions("RUN").stream()
                .filter(r -> r.contains("-XX:ArchiveClassesAtExit=" + archive)).toList();
        assertThat(trainings).as("a RUN that writes " + archive).hasSize(1);
        String training = trainings.get(0);
        assertThat(runtimeStage().indexOf("RUN " + training))
                .as("the training runs as root, before USER, since it writes to /opt/pgwarden")
                .isLessThan(runtimeStage().indexOf("USER 10001:10001"));
        Matcher java = TRAINING_JAVA.matcher(training);
        assertThat(java.find()).isTrue();
        assertThat(java.group(2)).isEqualTo("/opt/pgwarden/pgwarden.jar");
        assertThat(instructions("ENTRYPOINT").get(0)).contains("\"" + java.group(2) + "\"");
        List<String> trainingOptions = new ArrayList<>(List.of(java.group(1).trim().split("\\s+")));
        trainingOptions.remove("-XX:ArchiveClassesAtExit=" + archive);
        List<String> expected = new ArrayList<>(runtime);
        expected.removeAll(List.of("-XX:SharedArchiveFile=" + archive, "-XX:+ExitOnOutOfMemoryError"));
        assertThat(trainingOptions).containsExactlyInAnyOrderElementsOf(expected);

        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        onePgwardenJar(dir.resolve("pgwarden.jar"), dir.resolve("lib"));
        Files.writeString(dir.resolve("pgwarden.example.yaml"), Files.readString(Path.of("..", "examples",
                "pgwarden.yaml")).replace("port: 6432", "port: " + port));
        assertThat(training).startsWith("APP_PASSWORD=cds-training bash -c '").endsWith("'");
        String script = training.substring(training.indexOf('\'') + 1, training.length() - 1)
                .replace("/opt/pgwarden/", dir + "/").replace("/tmp/cds-training.log", dir + "/training.log")
                .replace("127.0.0.1/6432", "127.0.0.1/" + port)
                .replace("java ", Path.of(System.getProperty("java.home"), "bin", "java") + " ");
        ProcessBuilder train = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true);
        train.environment().put("APP_PASSWORD", "cds-training");
        // The script waits for the INFO line event=listen, as the image build sees it.
        train.environment().remove("PGWARDEN_LOG_LEVEL");
        train.environment().remove("JAVA_TOOL_OPTIONS");
        Process trainer = train.start();
        assertThat(trainer.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String trained = new String(trainer.getInputStream().readAllBytes());
        assertThat(trainer.exitValue()).as("the training start: %s", trained).isZero();
        assertThat(dir.resolve("pgwarden.jsa")).isNotEmptyFile();

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        runtime.forEach(o -> command.add(o.replace(archive, dir.resolve("pgwarden.jsa").toString())));
        command.addAll(List.of("-Xshare:on", "-jar", dir.resolve("pgwarden.jar").toString(), "--version"));
        Process mapped = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(mapped.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(mapped.getInputStream().readAllBytes());
        assertThat(mapped.exitValue()).as("%s said: %s", command, output).isZero();
        assertThat(output).contains("pgwarden").doesNotContain("Unable to use shared archive");
    }

    /**
     * pgwarden's classes in one jar, as the image has them: this module's classes and every directory of the test
     * class path (sibling modules, when the reactor has not packaged them) in the jar, the other jars copied to
     * {@code lib} and named by its manifest's Class-Path. The class-data archive takes classes from jars only.
     */
    private static void onePgwardenJar(Path jar, Path lib) throws Exception {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Files.createDirectories(lib);
        List<String> libs = new ArrayList<>();
        List<Path> dirs = new ArrayList<>();
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry);
            if (Files.isDirectory(p) && !p.endsWith("test-classes")) {
                dirs.add(p);
            } else if (Files.isRegularFile(p) && entry.endsWith(".jar")) {
                Path copy = lib.resolve(libs.size() + "-" + p.getFileName());
                Files.copy(p, copy);
                libs.add("lib/" + copy.getFileName());
            }
        }
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MAIN_CLASS, Main.class.getName());
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.CLASS_PATH, String.join(" ", libs));
        java.util.Set<String> written = new java.util.HashSet<>();
        try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar),
                manifest)) {
            for (Path d : dirs) {
                try (var files = Files.walk(d)) {
                    for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                        String name = d.relativize(f).toString().replace('\\', '/');
                        if (name.equals("META-INF/MANIFEST.MF") || !written.add(name)) {
                            continue;
                        }
                        out.putNextEntry(new java.util.jar.JarEntry(name));
                        Files.copy(f, out);
                        out.closeEntry();
                    }
                }
            }
        }
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
