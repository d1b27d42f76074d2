package io.pgwarden.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.bench.Workloads.Run;
import io.pgwarden.bench.Workloads.Target;
import io.pgwarden.bench.Workloads.Workload;
import java.util.List;
import org.junit.jupiter.api.Test;

class TlsReportTest {

    private static final Workload SELECT = TlsMatrix.plan().get(0);

    @Test
    void tpsAndCpuAreComparedAsRatiosOfTheSameRun() {
        List<Run> runs = List.of(
                run(TlsMatrix.JDK, 1, 20_000, 0.30), run(TlsMatrix.JDK, 2, 22_000, 0.34),
                run(TlsMatrix.OPENSSL, 1, 24_000, 0.24), run(TlsMatrix.OPENSSL, 2, 24_000, 0.24),
                run(TlsMatrix.BOUNCER, 1, 20_000, 0.20), run(TlsMatrix.BOUNCER, 2, 20_000, 0.20));

        String md = TlsReport.markdown(new Report(runs), List.of(SELECT), List.of("nproc: 2"), List.of());

        // TPS: jdk 21,000, openssl 24,000, PgBouncer 20,000 -> 1.05, 1.20 and 24/21 = 1.14.
        assertThat(md).contains("| " + SELECT.name() + " | 21000 | 24000 | 20000 | 1.05 | 1.20 | 1.14 |");
        // CPU per 1,000 tx: 0.64 s / 42,000 tx, 0.48 / 48,000 and 0.40 / 40,000.
        assertThat(md).contains("| " + SELECT.name() + " | 0.015 | 0.010 | 0.010 | 1.52 | 1.00 | 0.66 |");
    }

    @Test
    void aFailedOrMissingTargetHasNoRatio() {
        List<Run> runs = List.of(run(TlsMatrix.JDK, 1, 20_000, 0.3),
                new Run(SELECT, new Target(TlsMatrix.OPENSSL, 1, null), 1, Double.NaN, Double.NaN, new double[0],
                        Double.NaN, Double.NaN, "failed: SSL SYSCALL error"));

        String md = TlsReport.markdown(new Report(runs), List.of(SELECT), List.of(), List.of());

        assertThat(md).contains("| " + SELECT.name() + " | 20000 | failed | – | – | – | – |");
    }

    /** A run whose window was one second long: {@code tps} transactions for {@code cpu} CPU seconds. */
    private static Run run(String target, int round, double tps, double cpu) {
        return new Run(SELECT, new Target(target, 1, null), round, tps, tps, new double[] {1.0}, cpu, 100, null,
                tps, 1);
    }
}
