package io.pgwarden;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.LoadedConfig;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue 14: with only -XX:+UseZGC a junk-connection flood took the RSS to 2 GB. Every place that starts pgwarden
 * (the README's demo and proxy commands, the container, the benchmark) must bound its memory the same way, and
 * pgwarden's own start check must accept what they give.
 */
class JvmOptionsTest {

    private static final Pattern TOOL_OPTIONS = Pattern.compile("(?m)^ENV JAVA_TOOL_OPTIONS=\"([^\"]*)\"$");
    private static final Pattern JAVA_COMMAND = Pattern.compile("(?m)\\bjava((?: -X\\S+)+) -jar (\\S+)");
    private static final Pattern BENCH_OPTIONS =
            Pattern.compile("RECOMMENDED_JVM_OPTIONS = List\\.of\\(([^)]*)\\)", Pattern.DOTALL);

    private static List<String> dockerfileOptions() throws Exception {
        Matcher m = TOOL_OPTIONS.matcher(Files.readString(Path.of("..", "Dockerfile")));
        assertThat(m.find()).isTrue();
        return List.of(m.group(1).trim().split("\\s+"));
    }

    @Test
    void theReadmeCommandsAndTheBenchmarkStartPgwardenWithTheContainersBoundedOptions() throws Exception {
        List<String> container = dockerfileOptions();
        assertThat(container).contains("-Xmx1g", "-XX:MaxDirectMemorySize=512m", "-XX:+UseZGC",
                "-XX:SoftMaxHeapSize=256m", "-XX:+ExitOnOutOfMemoryError");

        Matcher readme = JAVA_COMMAND.matcher(Files.readString(Path.of("..", "README.md")));
        List<String> jars = new java.util.ArrayList<>();
        while (readme.find()) {
            jars.add(readme.group(2));
            assertThat(List.of(readme.group(1).trim().split(" "))).as("java ... -jar %s", readme.group(2))
                    .containsExactlyInAnyOrderElementsOf(container);
        }
        assertThat(jars).contains("bench/target/pgwarden-demo.jar", "proxy-core/target/pgwarden.jar");

        Matcher bench = BENCH_OPTIONS.matcher(
                Files.readString(Path.of("..", "bench", "src", "main", "java", "io", "pgwarden", "bench", "Proxy.java")));
        assertThat(bench.find()).isTrue();
        assertThat(Arrays.stream(bench.group(1).split(",")).map(s -> s.trim().replace("\"", "")).toList())
                .containsExactlyInAnyOrderElementsOf(container);
    }

    @Test
    void pgwardenDoesNotWarnAboutTheHeapWhenStartedWithThem() throws Exception {
        LoadedConfig config = new ConfigLoader(Map.of()).read("databases: {appdb: {}}\nusers: {app: {password: p}}\n",
                "t");
        StartupChecks.Process process = new StartupChecks.Process(false, List.of(), String.join(" ",
                dockerfileOptions()), 1L << 30);
        assertThat(new StartupChecks(process).run(config, null, new InetSocketAddress("127.0.0.1", 6432), false, null))
                .isEmpty();
    }
}
