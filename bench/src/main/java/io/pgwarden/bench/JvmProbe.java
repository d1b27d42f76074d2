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
    private static final Pattern SAFEPOINT = Pattern.compile("Safepoint \"([^\"]+)\".*Total: (\\d+) ns");
    private static final Pattern STALL = Pattern.compile("Allocation Stall \\((.+?)\\) (\\d+(?:\\.\\d+)?)ms");
    private static final Pattern NMT_TOTAL = Pattern.compile("(?m)^Total: reserved=(\\d+)KB, committed=(\\d+)KB");
    private static final Pattern NMT_CATEGORY =
            Pattern.compile("(?m)^-\\s+(.+?) \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)");

    private JvmProbe() {
    }

    /** JVM options that make pgwarden write its collections to {@code gcLog}. */
    static List<String> gcLogOptions(Path gcLog) {
        // gc+phases: ZGC logs its (sub-millisecond) pauses there only.
        return List.of("-Xlog:gc,gc+phases:file=" + gcLog + ":uptime");
    }

    /**
     * JVM options that log every safepoint to {@code safepointLog}: a collector's pauses and every other
     * stop of all Java threads (deoptimisation, biased-lock revocation, jcmd's requests) with the time to reach it.
     */
    static List<String> safepointLogOptions(Path safepointLog) {
        // gc+cpu: each collection's CPU time beside its wall-clock pause, see cpuOfLongestPause.
        return List.of("-Xlog:safepoint,gc+cpu:file=" + safepointLog + ":uptime");
    }

    private static final Pattern GC_PAUSE = Pattern.compile("GC\\((\\d+)\\) Pause (.+?) (\\d+(?:\\.\\d+)?)ms\\s*$");
    private static final Pattern GC_CPU =
            Pattern.compile("GC\\((\\d+)\\) User=(\\d+\\.\\d+)s Sys=(\\d+\\.\\d+)s Real=(\\d+\\.\\d+)s");

    /**
     * The CPU seconds (user + system, all GC threads) of the collection that paused longest, from the gc+cpu lines
     * of {@code cpuLog}: a pause far longer than its CPU time waited for a core, which on shared cores says the
     * machine's load, not the collector, made it long. NaN when the collector does not log it (ZGC).
     */
    static double cpuOfLongestPause(Path gcLog, Path cpuLog) throws IOException {
        String id = null;
        double max = -1;
        for (String line : Files.readAllLines(gcLog)) {
            Matcher m = GC_PAUSE.matcher(line);
            if (m.find() && !line.contains("System.gc()") && !line.contains("Diagnostic Command")
                    && !line.contains("Heap Inspection") && Double.parseDouble(m.group(3)) > max) {
                max = Double.parseDouble(m.group(3));
                id = m.group(1);
            }
        }
        if (id == null) {
            return Double.NaN;
        }
        for (String line : Files.readAllLines(cpuLog)) {
            Matcher m = GC_CPU.matcher(line);
            if (m.find() && m.group(1).equals(id)) {
                return Double.parseDouble(m.group(2)) + Double.parseDouble(m.group(3));
            }
        }
        return Double.NaN;
    }

    /** The longest safepoint (reaching it plus the operation), its name, and how many there were. */
    record Safepoints(int count, double maxMs, String longest, double totalMs) {
    }

    /**
     * Safepoints from a -Xlog:safepoint file, leaving out those jcmd asked for (NMT's summary, a histogram), which
     * an operator's tool causes and pgwarden does not.
     */
    static Safepoints safepoints(Path safepointLog) throws IOException {
        int count = 0;
        double max = 0;
        double total = 0;
        String longest = "none";
        for (String line : Files.readAllLines(safepointLog)) {
            Matcher m = SAFEPOINT.matcher(line);
            if (!m.find() || m.group(1).contains("HeapInspection") || m.group(1).contains("NMT")
                    || m.group(1).contains("PrintThreads")) {
                continue;
            }
            double ms = Long.parseLong(m.group(2)) / 1e6;
            count++;
            total += ms;
            if (ms > max) {
                max = ms;
                longest = m.group(1);
            }
        }
        return new Safepoints(count, max, longest, total);
    }

    /**
     * ZGC's allocation stalls from a -Xlog:gc file: a thread that allocates faster than ZGC frees waits, which
     * no pause figure shows; the longest in ms, 0 if none.
     */
    static double longestAllocationStallMs(Path gcLog) throws IOException {
        double max = 0;
        for (String line : Files.readAllLines(gcLog)) {
            Matcher m = STALL.matcher(line);
            if (m.find()) {
                max = Math.max(max, Double.parseDouble(m.group(2)));
            }
        }
        return max;
    }

    /** Native memory tracking's committed KiB per category, with "Total" first; empty without NMT. */
    static java.util.Map<String, Long> nativeMemoryCommittedKb(long pid) throws IOException {
        Processes.Result r = Processes.run(List.of(jcmd(), Long.toString(pid), "VM.native_memory", "summary"),
                Path.of("."), 60, null);
        java.util.Map<String, Long> committed = new java.util.LinkedHashMap<>();
        Matcher total = NMT_TOTAL.matcher(r.output());
        if (r.exitCode() != 0 || !total.find()) {
            return committed;
        }
        committed.put("Total", Long.parseLong(total.group(2)));
        Matcher c = NMT_CATEGORY.matcher(r.output());
        while (c.find()) {
            committed.put(c.group(1).trim(), Long.parseLong(c.group(3)));
        }
        return committed;
    }

    /**
     * Proportional set size (Pss from /proc/PID/smaps_rollup) in bytes: pages mapped several times count once in
     * all. Java 17's ZGC maps its heap three times (one view per pointer colour), so its VmRSS counts the heap up
     * to three times while the memory a container is charged for holds it once.
     */
    static long pss(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
            if (line.startsWith("Pss:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no Pss for " + pid);
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
