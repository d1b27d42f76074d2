package io.pgwarden.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SteadyWindowTest {

    private static final long EPOCH = 1_800_000_000L;

    @TempDir
    Path logs;

    @Test
    void theSecondsWhenOnlyOneThreadRunsAreLeftOut() throws IOException {
        // Thread 0 runs from t=0 at 1,000 logged tx/s with 1 ms latency; thread 1 is still logging its clients in
        // until t=4, and meanwhile thread 0's transactions are slow (50 ms), as a proxy busy with logins makes them.
        writeLog("tx.100", 0, 12, t -> t < 4 ? 50_000 : 1_000);
        writeLog("tx.100.1", 4, 12, t -> 1_000);

        SteadyWindow w = SteadyWindow.read(logs, 1, 3);

        assertThat(w.wholeRun()).isFalse();
        assertThat(w.startEpochSeconds() - EPOCH).isCloseTo(5.0, within(0.01));
        assertThat(w.endEpochSeconds() - EPOCH).isCloseTo(12.0, within(0.01));
        // Both threads at 1,000 logged tx/s, one logged in ten: 20,000 tps.
        assertThat(w.tps(0.1)).isCloseTo(20_000, within(200.0));
        assertThat(w.latenciesMs()).containsOnly(1.0);
    }

    @Test
    void aWindowTooShortToTrustFallsBackToTheWholeRun() throws IOException {
        writeLog("tx.100", 0, 6, t -> 2_000);
        writeLog("tx.100.1", 4, 6, t -> 2_000);

        SteadyWindow w = SteadyWindow.read(logs, 1, 3);

        assertThat(w.wholeRun()).isTrue();
        assertThat(w.seconds()).isCloseTo(6.0, within(0.01));
        assertThat(w.latenciesMs()).hasSize(6_000 + 2_000);
    }

    interface Latency {
        long micros(double secondsIntoRun);
    }

    /** One pgbench log line per millisecond from {@code from} to {@code to} seconds, in pgbench's format. */
    private void writeLog(String name, int from, int to, Latency latency) throws IOException {
        List<String> lines = new ArrayList<>();
        for (long ms = from * 1000L; ms < to * 1000L; ms++) {
            double t = ms / 1000.0;
            lines.add("7 " + ms + " " + latency.micros(t) + " 0 " + (EPOCH + ms / 1000) + " " + (ms % 1000) * 1000);
        }
        Files.write(logs.resolve(name), lines);
    }
}
