package io.pgwarden.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Parses output captured on the benchmark machine from {@code perf stat -x, -I ... -o FILE}. */
class PerfStatTest {

    private static final double STARTED = 1_800_000_000.0;

    @Test
    void intervalsAreCutToAWindowLikeTheCpuTime() throws IOException {
        // dd copying byte by byte, stopped with SIGINT, after which perf writes the last, shorter interval.
        List<PerfStat.Interval> intervals = PerfStat.parse(sample("perf-stat-dd.csv"));

        assertThat(intervals).hasSize(8);
        CounterSeries syscalls = PerfStat.series(intervals, PerfStat.SYSCALLS, STARTED);
        CounterSeries switches = PerfStat.series(intervals, PerfStat.CONTEXT_SWITCHES, STARTED);
        assertThat(syscalls.total()).isEqualTo(15195 + 156674 + 10971 + 20170);
        assertThat(switches.total()).isEqualTo(2 + 18 + 3 + 3);
        // Exactly the second interval, and half of it.
        assertThat(syscalls.between(STARTED + 0.121856649, STARTED + 0.311541402)).isCloseTo(156674, within(1.0));
        double middle = (0.121856649 + 0.311541402) / 2;
        assertThat(syscalls.between(STARTED + 0.121856649, STARTED + middle)).isCloseTo(156674 / 2.0, within(1.0));
    }

    @Test
    void intervalsInWhichTheProcessDidNotRunCountNothing() throws IOException {
        // A process that ran for the first time 1.2 s after perf attached: "<not counted>" until then.
        List<PerfStat.Interval> intervals = PerfStat.parse(sample("perf-stat-interval.csv"));

        assertThat(intervals).containsExactly(new PerfStat.Interval(1.208477209, PerfStat.SYSCALLS, 5),
                new PerfStat.Interval(1.208477209, PerfStat.CONTEXT_SWITCHES, 0));
        assertThat(PerfStat.series(intervals, PerfStat.SYSCALLS, STARTED).between(STARTED, STARTED + 2))
                .isEqualTo(5);
    }

    @Test
    void aWindowWithoutTwoSamplesHasNoCountRatherThanZero() {
        CounterSeries none = PerfStat.series(PerfStat.parse(List.of("Problems finding threads of monitor")),
                PerfStat.SYSCALLS, STARTED);

        assertThat(none.between(STARTED, STARTED + 1)).isNaN();
    }

    private static List<String> sample(String name) throws IOException {
        try (InputStream in = PerfStatTest.class.getResourceAsStream("/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }
}
