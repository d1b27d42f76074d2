package io.pgwarden.bench;

import io.pgwarden.bench.Workloads.Workload;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** tps.png: a grouped bar chart of the pgbench workloads' TPS per target. */
final class TpsChart {

    private TpsChart() {
    }

    private static final Color[] PALETTE = {new Color(0x7f7f7f), new Color(0x1f77b4), new Color(0xff7f0e),
        new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)};

    /**
     * One group of bars per pgbench workload, one bar per target, each labelled with its value (the values span
     * two orders of magnitude, so small bars stay readable by their label). COPY, in MB/s, is left to the table.
     */
    static BufferedImage draw(Report report) {
        Map<Workload, Map<String, Report.Row>> byWorkload = report.byWorkload();
        List<Report.Row> rows = report.rows();
        Set<String> targetNames = report.targetNames();
        List<Workload> workloads = byWorkload.keySet().stream()
                .filter(w -> w.kind() == Workloads.Kind.PGBENCH).toList();
        List<String> targets = new ArrayList<>(targetNames);
        // PgBouncer's session-mode stand-in (-M prepared only) takes the transaction-mode bar's place.
        List<String> slots = targets.stream().map(TpsChart::slotOf).distinct().toList();
        int bar = 16;
        int groupWidth = Math.max(slots.size(), 1) * bar + 24;
        int left = 80;
        int top = 60;
        int plotHeight = 420;
        int bottom = 190;
        int width = Math.max(left + workloads.size() * groupWidth + 40, 600);
        int height = top + plotHeight + bottom;
        double max = rows.stream().filter(r -> r.workload().kind() == Workloads.Kind.PGBENCH)
                .mapToDouble(Report.Row::throughput).filter(d -> !Double.isNaN(d)).max().orElse(1);
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
        for (int i = 0; i < slots.size(); i++) {
            g.setColor(PALETTE[i % PALETTE.length]);
            g.fillRect(lx, 36, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString(slots.get(i), lx + 16, 47);
            lx += 30 + g.getFontMetrics().stringWidth(slots.get(i));
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
            Map<String, Report.Row> perTarget = byWorkload.get(w);
            for (int ti = 0; ti < targets.size(); ti++) {
                Report.Row r = perTarget.get(targets.get(ti));
                int slot = slots.indexOf(slotOf(targets.get(ti)));
                int x = gx + slot * bar;
                if (r == null) {
                    continue;
                }
                double v = r.throughput();
                String label;
                if (Double.isNaN(v)) {
                    label = Report.shortFailure(r.failure());
                    v = 0;
                } else {
                    label = Report.fmt(v);
                }
                int h = (int) Math.round(plotHeight * v / scaleMax);
                g.setColor(PALETTE[slot % PALETTE.length]);
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
