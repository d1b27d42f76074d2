package io.pgwarden.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
        Path config = dir.resolve(name + ".yaml");
        Files.writeString(config, yaml);
        Path log = dir.resolve(name + ".log");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.pgwarden.Main", "-c", config.toString());
        return new PgwardenProcess(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .start(), log);
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
