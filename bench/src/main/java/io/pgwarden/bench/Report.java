package io.pgwarden.bench;

import io.pgwarden.bench.Workloads.Run;
import io.pgwarden.bench.Workloads.Workload;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;

/** Turns the runs into results.md (two tables and the machine facts) and tps.png (a grouped bar chart). */
final class Report {

    /** All rounds of one workload on one target, folded into one row. */
    record Row(Workload workload, String target, List<Run> runs) {

        List<Run> ok() {
            return runs.stream().filter(Run::ok).toList();
        }

        double throughput() {
            return ok().stream().mapToDouble(Run::throughput).average().orElse(Double.NaN);
        }

        String failure() {
            return runs.stream().filter(r -> !r.ok()).map(Run::failure).findFirst().orElse(null);
        }

        /** Percentile of all rounds' sampled latencies pooled together (nearest rank). */
        double latencyMs(double percentile) {
            double[] all = ok().stream().flatMapToDouble(r -> Arrays.stream(r.latenciesMs())).sorted().toArray();
            if (all.length == 0) {
                return Double.NaN;
            }
            int rank = (int) Math.ceil(percentile / 100 * all.length);
            return all[Math.max(0, rank - 1)];
        }

        /** CPU seconds of the proxy per 1,000 transactions (pgbench) or per GB (COPY), over all rounds. */
        double cpuCost() {
            double cpu = ok().stream().mapToDouble(Run::cpuSeconds).sum();
            double work = ok().stream().mapToDouble(Run::work).sum();
            double per = workload.kind() == Workloads.Kind.PGBENCH ? 1_000 : 1e9;
            return work > 0 ? cpu / work * per : Double.NaN;
        }

        double peakRssMb() {
            return ok().stream().mapToDouble(Run::peakRssMb).max().orElse(Double.NaN);
        }

        /** pgbench's own TPS, averaged like {@link #throughput}, for comparison with the steady window's. */
        double pgbenchTps() {
            return ok().stream().mapToDouble(Run::pgbenchTps).average().orElse(Double.NaN);
        }

        double windowSeconds() {
            return ok().stream().mapToDouble(Run::windowSeconds).average().orElse(Double.NaN);
        }
    }

    private final List<Row> rows = new ArrayList<>();
    private final Map<Workload, Map<String, Row>> byWorkload = new LinkedHashMap<>();
    private final Set<String> targetNames = new LinkedHashSet<>();

    Report(List<Run> runs) {
        Map<Workload, Map<String, List<Run>>> grouped = new LinkedHashMap<>();
        for (Run r : runs) {
            grouped.computeIfAbsent(r.workload(), w -> new LinkedHashMap<>())
                    .computeIfAbsent(r.target().name(), t -> new ArrayList<>()).add(r);
        }
        grouped.forEach((w, perTarget) -> perTarget.forEach((t, list) -> {
            Row row = new Row(w, t, list);
            rows.add(row);
            byWorkload.computeIfAbsent(w, x -> new LinkedHashMap<>()).put(t, row);
            targetNames.add(t);
        }));
    }

    /** One workload's row for one target, null if it was not run there. */
    Row row(Workload w, String target) {
        return byWorkload.getOrDefault(w, Map.of()).get(target);
    }

    /** The throughput table with the ratios: what a reader looks at first. */
    String summaryTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| workload | unit | direct | pgwarden | PgBouncer | pgwarden/direct | pgwarden/PgBouncer |\n");
        sb.append("|---|---|---:|---:|---:|---:|---:|\n");
        byWorkload.forEach((w, perTarget) -> {
            Row direct = perTarget.get("direct");
            Row warden = perTarget.get("pgwarden");
            Row bouncer = bouncer(perTarget);
            sb.append("| ").append(w.name()).append(" | ").append(w.unit()).append(" | ")
                    .append(cell(direct)).append(" | ").append(cell(warden)).append(" | ")
                    .append(bouncer == null ? "not installed" : cell(bouncer)
                            + (bouncer.target().equals("pgbouncer") ? "" : " (" + bouncer.target() + ")"))
                    .append(" | ").append(ratio(warden, direct)).append(" | ").append(ratio(warden, bouncer))
                    .append(" |\n");
        });
        return sb.toString();
    }

    /** Every row with latency, CPU and memory, and each round's throughput to show the spread. */
    String detailTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| workload | target | throughput | per round | p50 ms | p99 ms | proxy CPU s per 1k tx"
                + " (COPY: per GB) | proxy peak RSS MB | pgbench's own tps | window s |\n");
        sb.append("|---|---|---:|---|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            boolean copy = r.workload().kind() != Workloads.Kind.PGBENCH;
            String perRound = r.runs().stream()
                    .map(run -> run.ok() ? fmt(run.throughput()) : shortFailure(run.failure()))
                    .collect(Collectors.joining(" / "));
            sb.append("| ").append(r.workload().name()).append(" | ").append(r.target()).append(" | ")
                    .append(r.ok().isEmpty() ? r.failure() : fmt(r.throughput()) + " " + r.workload().unit())
                    .append(" | ").append(perRound).append(" | ")
                    .append(copy ? "–" : fmt2(r.latencyMs(50))).append(" | ")
                    .append(copy ? "–" : fmt2(r.latencyMs(99))).append(" | ")
                    .append(fmt3(r.cpuCost())).append(" | ").append(fmt(r.peakRssMb())).append(" | ")
                    .append(copy ? "–" : fmt(r.pgbenchTps())).append(" | ")
                    .append(copy ? "–" : fmt1(r.windowSeconds())).append(" |\n");
        }
        return sb.toString();
    }

    /** @param sections further Markdown sections (heading included), after the detail table */
    void write(Path outDir, List<String> facts, List<String> notes, List<String> sections) throws IOException {
        Files.createDirectories(outDir);
        StringBuilder md = new StringBuilder("# pgwarden benchmark results\n\n");
        facts.forEach(f -> md.append("- ").append(f).append('\n'));
        md.append("\n## Throughput\n\n").append(summaryTable());
        md.append("\n![TPS per workload and target](tps.png)\n");
        md.append("\n## Detail\n\n").append(detailTable());
        sections.forEach(section -> md.append('\n').append(section));
        md.append("\n## Notes\n\n");
        notes.forEach(n -> md.append("- ").append(n).append('\n'));
        Files.writeString(outDir.resolve("results.md"), md.toString());
        ImageIO.write(chart(), "png", outDir.resolve("tps.png").toFile());
    }

    /** PgBouncer's row for a workload: the transaction-mode one, else the session-mode one (-M prepared). */
    private static Row bouncer(Map<String, Row> perTarget) {
        return perTarget.entrySet().stream().filter(e -> e.getKey().startsWith("pgbouncer"))
                .map(Map.Entry::getValue).findFirst().orElse(null);
    }

    private static String cell(Row r) {
        if (r == null) {
            return "–";
        }
        return r.ok().isEmpty() ? shortFailure(r.failure()) : fmt(r.throughput());
    }

    /** "n/a" or "failed" for the compact columns; the detail table's throughput column has the reason. */
    private static String shortFailure(String failure) {
        return failure != null && failure.startsWith("n/a") ? "n/a" : "failed";
    }

    private static String ratio(Row a, Row b) {
        if (a == null || b == null || a.ok().isEmpty() || b.ok().isEmpty()) {
            return "–";
        }
        return String.format(Locale.ROOT, "%.2f", a.throughput() / b.throughput());
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.0f", v);
    }

    private static String fmt1(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String fmt2(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String fmt3(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.3f", v);
    }

    // ---- chart --------------------------------------------------------------------------------------------

    private static final Color[] PALETTE = {new Color(0x7f7f7f), new Color(0x1f77b4), new Color(0xff7f0e),
        new Color(0xd62728), new Color(0x2ca02c)};

    /**
     * One group of bars per pgbench workload, one bar per target, each labelled with its value (the values span
     * two orders of magnitude, so small bars stay readable by their label). COPY, in MB/s, is left to the table.
     */
    BufferedImage chart() {
        List<Workload> workloads = byWorkload.keySet().stream()
                .filter(w -> w.kind() == Workloads.Kind.PGBENCH).toList();
        List<String> targets = new ArrayList<>(targetNames);
        // PgBouncer's session-mode stand-in (-M prepared only) takes the transaction-mode bar's place.
        List<String> slots = targets.stream().map(Report::slotOf).distinct().toList();
        int bar = 16;
        int groupWidth = Math.max(slots.size(), 1) * bar + 24;
        int left = 80;
        int top = 60;
        int plotHeight = 420;
        int bottom = 190;
        int width = Math.max(left + workloads.size() * groupWidth + 40, 600);
        int height = top + plotHeight + bottom;
        double max = rows.stream().filter(r -> r.workload().kind() == Workloads.Kind.PGBENCH)
                .mapToDouble(Row::throughput).filter(d -> !Double.isNaN(d)).max().orElse(1);
        // Headroom above the tallest bar for its value label.
        double scaleMax = niceCeiling(max * 1.15);

        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString("pgbench TPS per workload and target (mean of rounds)", left, 25);

        // Legend
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        int lx = left;
        for (int i = 0; i < targets.size(); i++) {
            g.setColor(PALETTE[i % PALETTE.length]);
            g.fillRect(lx, 36, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString(targets.get(i), lx + 16, 47);
            lx += 30 + g.getFontMetrics().stringWidth(targets.get(i));
        }

        // Y axis with five grid lines
        int baseY = top + plotHeight;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int i = 0; i <= 5; i++) {
            double v = scaleMax * i / 5;
            int y = baseY - (int) (plotHeight * i / 5.0);
            g.setColor(new Color(0xe0e0e0));
            g.drawLine(left, y, width - 20, y);
            g.setColor(Color.BLACK);
            String label = String.format(Locale.ROOT, "%,.0f", v);
            g.drawString(label, left - 8 - g.getFontMetrics().stringWidth(label), y + 4);
        }
        g.setStroke(new BasicStroke(1));
        g.drawLine(left, baseY, width - 20, baseY);

        for (int wi = 0; wi < workloads.size(); wi++) {
            Workload w = workloads.get(wi);
            int gx = left + 12 + wi * groupWidth;
            Map<String, Row> perTarget = byWorkload.get(w);
            for (int ti = 0; ti < targets.size(); ti++) {
                Row r = perTarget.get(targets.get(ti));
                int x = gx + slots.indexOf(slotOf(targets.get(ti))) * bar;
                if (r == null) {
                    continue;
                }
                double v = r.throughput();
                String label;
                if (Double.isNaN(v)) {
                    label = shortFailure(r.failure());
                    v = 0;
                } else {
                    label = fmt(v);
                }
                int h = (int) Math.round(plotHeight * v / scaleMax);
                g.setColor(PALETTE[ti % PALETTE.length]);
                g.fillRect(x, baseY - h, bar - 2, h);
                drawVertical(g, label, x + bar / 2 + 3, baseY - h - 4, Color.DARK_GRAY);
            }
            // Workload name under the group, rotated so long names fit.
            drawVertical(g, w.name(), gx + groupWidth / 2 - 4, baseY + 8 + g.getFontMetrics().stringWidth(w.name()),
                    Color.BLACK);
        }
        g.dispose();
        return img;
    }

    private static String slotOf(String target) {
        return target.startsWith("pgbouncer") ? "pgbouncer" : target;
    }

    private static void drawVertical(Graphics2D g, String text, int x, int y, Color color) {
        AffineTransform saved = g.getTransform();
        g.setColor(color);
        g.translate(x, y);
        g.rotate(-Math.PI / 2);
        g.drawString(text, 0, 0);
        g.setTransform(saved);
    }

    /** The axis maximum: a round multiple (1, 1.2, … 8) of a power of ten, at least {@code v}. */
    private static double niceCeiling(double v) {
        if (v <= 0 || Double.isNaN(v)) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }
}
