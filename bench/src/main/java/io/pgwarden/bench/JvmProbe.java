package io.pgwarden.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the JVM under test says about itself: heap in use after a full collection (through jcmd, from the JDK
 * running the harness) and the pauses in its -Xlog:gc file.
 */
final class JvmProbe {

    private static final Pattern HISTOGRAM_TOTAL = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)\\s*$");
    private static final Pattern PAUSE = Pattern.compile("Pause (.+?) (\\d+(?:\\.\\d+)?)ms\\s*$");
    private static final Pattern COLLECTOR = Pattern.compile("\\] Using (.+)$");

    private JvmProbe() {
    }

    /** JVM options that make pgwarden write its collections to {@code gcLog}. */
    static List<String> gcLogOptions(Path gcLog) {
        // gc+phases: ZGC logs its (sub-millisecond) pauses there only.
        return List.of("-Xlog:gc,gc+phases:file=" + gcLog + ":uptime");
    }

    /**
     * Bytes of live objects, from a class histogram (which collects first): the same figure whatever the
     * collector, where the heap's "used" counts G1 regions or ZGC pages.
     */
    static long liveHeapBytes(long pid) throws IOException {
        String histogram = Processes.runChecked(List.of(jcmd(), Long.toString(pid), "GC.class_histogram"),
                Path.of("."), 120);
        Matcher m = HISTOGRAM_TOTAL.matcher(histogram);
        if (!m.find()) {
            throw new IOException("no Total line in jcmd GC.class_histogram output");
        }
        return Long.parseLong(m.group(1));
    }

    /** Resident set size now, in bytes (VmRSS). */
    static long rss(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS for " + pid);
    }

    /** Collector and pauses from a -Xlog:gc file, leaving out the full collections jcmd asked for. */
    record Pauses(String collector, int count, double maxMs, double totalMs, List<String> over10ms) {
        String describe() {
            return String.format(Locale.ROOT, "%s: %d pauses, longest %.2f ms, total %.1f ms%s", collector, count,
                    maxMs, totalMs, over10ms.isEmpty() ? "; none above 10 ms"
                            : "; above 10 ms: " + String.join(", ", over10ms));
        }
    }

    static Pauses pauses(Path gcLog) throws IOException {
        String collector = "unknown collector";
        int count = 0;
        double max = 0;
        double total = 0;
        List<String> over = new ArrayList<>();
        for (String line : Files.readAllLines(gcLog)) {
            Matcher c = COLLECTOR.matcher(line);
            if (c.find()) {
                collector = c.group(1).trim();
                continue;
            }
            Matcher p = PAUSE.matcher(line);
            if (!p.find() || line.contains("System.gc()") || line.contains("Diagnostic Command")
                    || line.contains("Heap Inspection")) {
                continue;
            }
            double ms = Double.parseDouble(p.group(2));
            count++;
            total += ms;
            max = Math.max(max, ms);
            if (ms > 10) {
                over.add(String.format(Locale.ROOT, "%.1f ms (%s)", ms, p.group(1).replaceAll("\\s+\\S+->.*", "")));
            }
        }
        return new Pauses(collector, count, max, total, over);
    }

    private static String jcmd() {
        Path java = Path.of(ProcessHandle.current().info().command().orElse("java"));
        Path jcmd = java.resolveSibling("jcmd");
        return Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd";
    }
}
