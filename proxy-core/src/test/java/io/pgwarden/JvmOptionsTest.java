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
 * pgwarden's own start check must accept what they give. Issue 19 chose the options from measured footprints,
 * and the check's hint names them.
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

    /** The container's options but its class-data archive, which exists only in the image (DockerfileTest). */
    private static List<String> optionsOutsideTheImage() throws Exception {
        return dockerfileOptions().stream().filter(o -> !o.startsWith("-XX:SharedArchiveFile=")).toList();
    }

    @Test
    void theReadmeCommandsAndTheBenchmarkStartPgwardenWithTheContainersBoundedOptions() throws Exception {
        // Issue 19: chosen from bench/results/footprint.md; Shenandoah, since Java 17's ZGC has no compressed
        // references and maps its heap three times (440-490 MB resident with 10,000 idle clients).
        assertThat(dockerfileOptions()).contains("-Xmx96m", "-XX:MaxDirectMemorySize=64m",
                "-XX:+UseShenandoahGC", "-XX:-TieredCompilation", "-XX:+ExitOnOutOfMemoryError")
                .doesNotContain("-XX:+UseZGC");
        List<String> container = optionsOutsideTheImage();

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
                dockerfileOptions()), 128L << 20);
        assertThat(new StartupChecks(process).run(config, null, new InetSocketAddress("127.0.0.1", 6432), false, null))
                .isEmpty();
    }

    @Test
    void theWarningAboutAnUnboundedHeapRecommendsThem() throws Exception {
        LoadedConfig config = new ConfigLoader(Map.of()).read("databases: {appdb: {}}\nusers: {app: {password: p}}\n",
                "t");
        StartupChecks.Process unbounded = new StartupChecks.Process(false, List.of(), null, 6L << 30);
        String hint = " " + String.join(" ", optionsOutsideTheImage()) + ", as the container image does";
        assertThat(new StartupChecks(unbounded).run(config, null, new InetSocketAddress("127.0.0.1", 6432), false,
                null)).anySatisfy(w -> assertThat(w).contains("event=heap_unbounded", hint));
    }
}
