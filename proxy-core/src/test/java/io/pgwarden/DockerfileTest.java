package io.pgwarden;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The image cannot be built here (no Docker engine), so what can be checked without one is: the JVM options
 * the container starts with are well quoted and accepted by a Java 17 JVM, or the container would not start.
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
}
