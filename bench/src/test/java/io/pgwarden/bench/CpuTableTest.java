package io.pgwarden.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.bench.Workloads.Run;
import io.pgwarden.bench.Workloads.Target;
import io.pgwarden.bench.Workloads.Workload;
import java.util.List;
import org.junit.jupiter.api.Test;

class CpuTableTest {

    private static final Workload SELECT = Workloads.plan(List.of(100), List.of("simple"), List.of("select"), 0)
            .get(0);

    @Test
    void eachTransportIsSetAgainstPgbouncerWithUserAndSystemTimeApart() {
        // 10,000 transactions each: epoll 0.10 s user + 0.08 s sys and 30,000 syscalls; PgBouncer 0.05 + 0.10.
        List<Run> runs = List.of(run("pgwarden-epoll", 11_000, 0.10, 0.08, 30_000, 5_000, null),
                run("pgwarden-nio", 9_000, 0.20, 0.10, 50_000, 9_000, null),
                run("pgbouncer", 10_000, 0.05, 0.10, 40_000, 20_000, null));

        String table = new Report(runs).cpuTable();

        assertThat(table).contains("| " + SELECT.name() + " | pgwarden-epoll | 11000 | 1.10 | 10.0 | 8.0 | 18.0"
                + " | 2.00 | 0.80 | 1.20 | 3.00 | 0.50 |");
        assertThat(table).contains("| " + SELECT.name() + " | pgwarden-nio | 9000 | 0.90 | 20.0 | 10.0 | 30.0"
                + " | 4.00 | 1.00 | 2.00 | 5.00 | 0.90 |");
        assertThat(table).contains("| " + SELECT.name() + " | pgbouncer | 10000 | – | 5.0 | 10.0 | 15.0"
                + " | – | – | – | 4.00 | 2.00 |");
        assertThat(table).doesNotContain("not counted").doesNotContain("†");
    }

    @Test
    void aRowCountedOverTheWholeRunIsMarked() {
        ProxyMeter.Counters whole = new ProxyMeter.Counters(0.5, 0.1, 50_000, 5_000, "perf", null, true);
        List<Run> runs = List.of(run("pgwarden-epoll", 10_000, 0.1, 0.1, 40_000, 5_000, null),
                new Run(SELECT, new Target("pgbouncer", 1, null), 1, 40, 10_000, new double[] {1.0}, 0.6, 9, null,
                        40, 2, whole));

        String table = new Report(runs).cpuTable();

        assertThat(table).contains("| pgbouncer | 40 † | – | 50.0 | 10.0 | 60.0 |");
        assertThat(table).contains("† In at least one round the steady window");
    }

    @Test
    void missingSystemCallsAreSaidNotZero() {
        String why = "perf stat refused (exit 255): No permission";
        List<Run> runs = List.of(run("pgwarden-epoll", 10_000, 0.1, 0.1, Double.NaN, 5_000, why),
                run("pgbouncer", 10_000, 0.1, 0.1, Double.NaN, 5_000, why));

        String table = new Report(runs).cpuTable();

        assertThat(table).contains("| 20.0 | 1.00 | 1.00 | 1.00 | n/a | 0.50 |");
        assertThat(table).contains("System calls not counted (n/a above): pgbouncer: " + why
                + "; pgwarden-epoll: " + why);
        assertThat(table).contains("Context switches for pgbouncer, pgwarden-epoll are then the threads'");
    }

    /** A run of 10,000 transactions ({@code work}) in a one-second window. */
    private static Run run(String target, double tps, double user, double sys, double syscalls, double switches,
                           String missing) {
        ProxyMeter.Counters c = new ProxyMeter.Counters(user, sys, syscalls, switches,
                missing == null ? "perf" : "/proc", missing, false);
        return new Run(SELECT, new Target(target, 1, null), 1, tps, 10_000, new double[] {1.0}, user + sys, 100, null,
                tps, 1, c);
    }
}
