package io.pgwarden.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;

/** pgwarden as a process of its own (as in production), on the test classpath, its output in a log file. */
final class PgwardenProcess implements AutoCloseable {

    private static final Pattern LISTEN = Pattern.compile("event=listen addr=\\S*:(\\d+) ");

    private final Process process;
    private final Path log;

    private PgwardenProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Writes {@code yaml} next to the log and starts pgwarden on it. */
    static PgwardenProcess start(Path dir, String name, String yaml) throws IOException {
        return start(dir, name, yaml, List.of(), Map.of());
    }

    /** As {@link #start(Path, String, String)}, with these JVM options and environment variables besides. */
    static PgwardenProcess start(Path dir, String name, String yaml, List<String> jvmOptions,
                                 Map<String, String> environment) throws IOException {
        Path config = dir.resolve(name + ".yaml");
        Files.writeString(config, yaml);
        Path log = dir.resolve(name + ".log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        // The class path in an argument file: for a command line as long as the test class path the JDK gives no
        // arguments (ProcessHandle.Info), and pgwarden at start reads its own, short in production.
        Path arguments = dir.resolve(name + ".args");
        Files.writeString(arguments, "-cp \"" + System.getProperty("java.class.path").replace("\\", "\\\\")
                + "\"\n");
        command.addAll(List.of("@" + arguments, "io.pgwarden.Main", "-c", config.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        return new PgwardenProcess(builder.start(), log);
    }

    /** Waits for the listening line; returns the client port. */
    int awaitListening() {
        return Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("pgwarden exited: " + output());
            }
            Matcher m = LISTEN.matcher(output());
            return m.find() ? Integer.parseInt(m.group(1)) : -1;
        }, p -> p > 0);
    }

    void awaitLog(String text) {
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> output().contains(text));
    }

    String output() throws IOException {
        return Files.readString(log);
    }

    Process process() {
        return process;
    }

    /** SIGTERM: the graceful stop. */
    void terminate() {
        process.destroy();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
