package io.pgwarden.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * System calls and context switches of a proxy process, counted by {@code perf stat} in 100 ms intervals, so that
 * the count inside pgbench's {@link SteadyWindow} can be cut out afterwards as the CPU time is. The counting is in
 * the kernel (a tracepoint counter, no per-event record), which keeps its own cost to the measured process small.
 *
 * <p>{@code perf stat -p} attaches to the threads the process has when it starts: pgwarden's event loops exist
 * once the warm-up has run, and PgBouncer has one thread, so a run counts all of them.
 */
final class PerfStat {

    static final String EVENTS = "raw_syscalls:sys_enter,context-switches";
    static final String SYSCALLS = "raw_syscalls:sys_enter";
    static final String CONTEXT_SWITCHES = "context-switches";
    private static final int INTERVAL_MILLIS = 100;

    /** One line of {@code perf stat -x, -I}: seconds since perf started, the event and its count in the interval. */
    record Interval(double offsetSeconds, String event, double count) {
    }

    /** The two counters over a run, or why they are missing (then both series are empty). */
    record Counts(CounterSeries syscalls, CounterSeries contextSwitches, String missing) {
        static Counts missing(String why) {
            return new Counts(new CounterSeries(), new CounterSeries(), why);
        }
    }

    private final Process perf;
    private final Path output;
    private final double startedEpochSeconds;

    private PerfStat(Process perf, Path output, double startedEpochSeconds) {
        this.perf = perf;
        this.output = output;
        this.startedEpochSeconds = startedEpochSeconds;
    }

    /**
     * Whether perf can count both events on this process (perf installed, the tracepoint readable, attaching
     * allowed): null if so, else why not, for the report. Counts for 0.2 s.
     */
    static String probe(String perfBinary, long pid, Path workDir) {
        if (perfBinary == null) {
            return "perf is not installed (Debian: apt-get install -y linux-perf)";
        }
        try {
            Processes.Result r = Processes.run(List.of(perfBinary, "stat", "-x,", "-e", EVENTS, "-p",
                    Long.toString(pid), "--", "sleep", "0.2"), workDir, 30, null);
            List<String> lines = r.output().lines().toList();
            boolean counted = lines.stream().anyMatch(l -> l.contains("," + SYSCALLS + ",")
                    && Character.isDigit(l.charAt(0)));
            if (r.exitCode() == 0 && counted) {
                return null;
            }
            return "perf stat refused (" + r.describeExit() + "): " + lines.stream().filter(l -> !l.isBlank())
                    .findFirst().orElse("no output").strip();
        } catch (IOException e) {
            return "perf stat could not run: " + e.getMessage();
        }
    }

    static PerfStat start(String perfBinary, long pid, Path workDir) throws IOException {
        Path output = Files.createTempFile(workDir, "perf", ".csv");
        double started = System.currentTimeMillis() / 1000.0;
        Process p = new ProcessBuilder(perfBinary, "stat", "-x,", "-I", Integer.toString(INTERVAL_MILLIS), "-e",
                EVENTS, "-p", Long.toString(pid), "-o", output.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return new PerfStat(p, output, started);
    }

    /** Stops perf (SIGINT, on which it writes out the last interval) and reads what it counted. */
    Counts stop() {
        try {
            if (perf.isAlive()) {
                Processes.run(List.of("kill", "-INT", Long.toString(perf.pid())), output.getParent(), 10, null);
            }
            if (!perf.waitFor(10, TimeUnit.SECONDS)) {
                perf.destroyForcibly();
                return Counts.missing("perf stat did not stop within 10 s of SIGINT");
            }
            List<String> lines = Files.readAllLines(output);
            Files.deleteIfExists(output);
            List<Interval> intervals = parse(lines);
            if (intervals.isEmpty()) {
                return Counts.missing("perf stat counted nothing (exit " + perf.exitValue() + "): "
                        + lines.stream().filter(l -> !l.isBlank() && !l.startsWith("#")).findFirst()
                        .orElse("no output").strip());
            }
            return new Counts(series(intervals, SYSCALLS, startedEpochSeconds),
                    series(intervals, CONTEXT_SWITCHES, startedEpochSeconds), null);
        } catch (IOException e) {
            return Counts.missing("perf stat output unreadable: " + e.getMessage());
        } catch (InterruptedException e) {
            perf.destroyForcibly();
            Thread.currentThread().interrupt();
            return Counts.missing("interrupted");
        }
    }

    /**
     * The lines of {@code perf stat -x, -I}: "offset,count,unit,event,run time,percentage,,". Comments ("# started
     * on"), blank lines and intervals perf could not count ("&lt;not counted&gt;") are left out.
     */
    static List<Interval> parse(List<String> lines) {
        List<Interval> intervals = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.strip().split(",", -1);
            if (f.length < 4 || line.startsWith("#")) {
                continue;
            }
            try {
                intervals.add(new Interval(Double.parseDouble(f[0]), f[3], Double.parseDouble(f[1])));
            } catch (NumberFormatException notCounted) {
                // "<not counted>" or "<not supported>": no figure for that interval
            }
        }
        return intervals;
    }

    /** One event's cumulative count, starting from zero when perf started. */
    static CounterSeries series(List<Interval> intervals, String event, double startedEpochSeconds) {
        CounterSeries s = new CounterSeries();
        s.add(startedEpochSeconds, 0);
        double total = 0;
        for (Interval i : intervals) {
            if (i.event().equals(event)) {
                total += i.count();
                s.add(startedEpochSeconds + i.offsetSeconds(), total);
            }
        }
        return s;
    }
}
