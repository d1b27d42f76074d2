package io.pgwarden.bench;

import io.pgwarden.bench.Report.Row;
import io.pgwarden.bench.Workloads.Workload;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** tls.md: TPS and proxy CPU per transaction of the TLS matrix, as ratios between targets of the same run. */
final class TlsReport {

    private TlsReport() {
    }

    static String markdown(Report report, List<Workload> plan, List<String> facts, List<String> notes) {
        StringBuilder md = new StringBuilder("# pgwarden TLS benchmark results\n\n");
        facts.forEach(f -> md.append("- ").append(f).append('\n'));
        md.append("\n## Throughput (TPS, mean of rounds)\n\n")
                .append(table(report, plan, Row::throughput, "%.0f"));
        md.append("\n## Proxy CPU (user+sys) s per 1,000 transactions\n\n")
                .append("Lower is better; the ratios are pgwarden's CPU over PgBouncer's (below 1: pgwarden is"
                        + " cheaper).\n\n")
                .append(table(report, plan, Row::cpuCost, "%.3f"));
        md.append("\n## Detail\n\n").append(report.detailTable());
        md.append("\n## Notes\n\n");
        notes.forEach(n -> md.append("- ").append(n).append('\n'));
        md.append("- Every client runs with PGSSLMODE=require: all three targets refuse plain text"
                + " (listen.tls.mode: require; client_tls_sslmode = require). Behind them, both proxies talk plain"
                + " text to PostgreSQL, as in the plain-text matrix.\n");
        md.append("- Both proxies in transaction mode with a pool of " + Harness.POOL_SIZE + ", SCRAM-SHA-256 for"
                + " clients and to PostgreSQL, connection logging off; pgwarden with the Dockerfile's JVM options.\n");
        md.append("- Warm-up, unrecorded, per target: pgbench -S -c 100 and a -C storm of 10 clients.\n");
        md.append("- TPS and CPU are taken over pgbench's steady window as in results.md (see its notes); for the"
                + " storm (-C) a transaction includes its TLS handshake and SCRAM login.\n");
        return md.toString();
    }

    /** One row per workload: each target's figure, then each pgwarden provider against PgBouncer and jdk. */
    private static String table(Report report, List<Workload> plan, ToDoubleFunction<Row> figure, String format) {
        StringBuilder sb = new StringBuilder();
        sb.append("| workload | pgwarden (jdk) | pgwarden (openssl) | PgBouncer | jdk/PgBouncer | openssl/PgBouncer"
                + " | openssl/jdk |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (Workload w : plan) {
            Row jdk = report.row(w, TlsMatrix.JDK);
            Row openssl = report.row(w, TlsMatrix.OPENSSL);
            Row bouncer = report.row(w, TlsMatrix.BOUNCER);
            sb.append("| ").append(w.name()).append(" | ")
                    .append(cell(jdk, figure, format)).append(" | ")
                    .append(cell(openssl, figure, format)).append(" | ")
                    .append(cell(bouncer, figure, format)).append(" | ")
                    .append(ratio(jdk, bouncer, figure)).append(" | ")
                    .append(ratio(openssl, bouncer, figure)).append(" | ")
                    .append(ratio(openssl, jdk, figure)).append(" |\n");
        }
        return sb.toString();
    }

    private static double value(Row r, ToDoubleFunction<Row> figure) {
        return r == null || r.ok().isEmpty() ? Double.NaN : figure.applyAsDouble(r);
    }

    private static String cell(Row r, ToDoubleFunction<Row> figure, String format) {
        if (r == null) {
            return "–";
        }
        double v = value(r, figure);
        return Double.isNaN(v) ? "failed" : String.format(Locale.ROOT, format, v);
    }

    private static String ratio(Row a, Row b, ToDoubleFunction<Row> figure) {
        double r = value(a, figure) / value(b, figure);
        return Double.isNaN(r) || Double.isInfinite(r) ? "–" : String.format(Locale.ROOT, "%.2f", r);
    }
}
