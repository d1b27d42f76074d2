package io.pgwarden.bench;

import java.io.IOException;
import java.nio.file.Path;

/**
 * CPU time (user and system), context switches, system calls and peak RSS of a proxy over one run; nothing for
 * direct PostgreSQL, which is not measured. The counters are sampled every 100 ms (perf in its own 100 ms
 * intervals), so that what was spent inside a {@link SteadyWindow} can be read back once the window is known.
 */
final class ProxyMeter {

    /**
     * What a proxy spent over a span: CPU seconds in user and kernel mode, system calls and context switches (NaN
     * where not measured). {@code syscallsMissing} says why there is no system call count (never a silent zero);
     * {@code contextSource} where the context switches come from (perf, or /proc when perf is missing).
     * {@code wholeRun}: over the whole run, logins included, because the steady window was too short to trust.
     */
    record Counters(double userSeconds, double systemSeconds, double syscalls, double contextSwitches,
                    String contextSource, String syscallsMissing, boolean wholeRun) {
        static final Counters NONE = new Counters(Double.NaN, Double.NaN, Double.NaN, Double.NaN, null,
                "not measured", false);

        double cpuSeconds() {
            return userSeconds + systemSeconds;
        }
    }

    private static final long SAMPLE_MILLIS = 100;
    private final Proxy proxy;
    private final PerfStat perf;
    private final String perfMissing;
    private final double cpuBefore;
    private final CounterSeries user = new CounterSeries();
    private final CounterSeries system = new CounterSeries();
    private final CounterSeries procContextSwitches = new CounterSeries();
    private final Thread sampler;
    private PerfStat.Counts perfCounts;
    double cpuSeconds = Double.NaN;
    double peakRssMb = Double.NaN;

    /**
     * @param perfBinary  perf, or null when it cannot count here ({@code perfMissing} says why)
     */
    private ProxyMeter(Proxy proxy, String perfBinary, String perfMissing, Path workDir) {
        this.proxy = proxy;
        this.cpuBefore = proxy == null ? Double.NaN : proxy.cpuSeconds();
        if (proxy == null) {
            sampler = null;
            perf = null;
            this.perfMissing = "not measured";
            return;
        }
        proxy.resetPeakRss();
        PerfStat started = null;
        String missing = perfMissing;
        if (perfBinary != null) {
            try {
                started = PerfStat.start(perfBinary, proxy.pid(), workDir);
            } catch (IOException e) {
                missing = "perf stat did not start: " + e.getMessage();
            }
        }
        this.perf = started;
        this.perfMissing = missing;
        sampler = new Thread(() -> {
            try {
                while (true) {
                    sample();
                    Thread.sleep(SAMPLE_MILLIS);
                }
            } catch (InterruptedException e) {
                // stop() ends the sampling
            }
        }, "proxy-meter");
        sampler.setDaemon(true);
        sampler.start();
    }

    static ProxyMeter start(Proxy proxy, String perfBinary, String perfMissing, Path workDir) {
        return new ProxyMeter(proxy, perfBinary, perfMissing, workDir);
    }

    private void sample() {
        double now = System.currentTimeMillis() / 1000.0;
        double[] cpu = proxy.cpuTimes();
        user.add(now, cpu[0]);
        system.add(now, cpu[1]);
        procContextSwitches.add(now, proxy.contextSwitches());
    }

    void stop() {
        if (proxy == null) {
            return;
        }
        sampler.interrupt();
        try {
            sampler.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sample();
        perfCounts = perf == null ? PerfStat.Counts.missing(perfMissing) : perf.stop();
        cpuSeconds = proxy.cpuSeconds() - cpuBefore;
        // Without a reset VmHWM is the peak since start, still an upper bound for this run.
        peakRssMb = proxy.peakRssMb();
    }

    /** What the proxy spent between two wall-clock instants (epoch seconds), interpolated between samples. */
    Counters between(double from, double to) {
        if (proxy == null) {
            return Counters.NONE;
        }
        boolean perfCounted = perfCounts.missing() == null;
        return new Counters(user.between(from, to), system.between(from, to),
                perfCounted ? perfCounts.syscalls().between(from, to) : Double.NaN,
                perfCounted ? perfCounts.contextSwitches().between(from, to) : procContextSwitches.between(from, to),
                perfCounted ? "perf" : "/proc", perfCounts.missing(), false);
    }

    /** What the proxy spent over the whole run. */
    Counters whole() {
        if (proxy == null) {
            return Counters.NONE;
        }
        boolean perfCounted = perfCounts.missing() == null;
        return new Counters(user.total(), system.total(),
                perfCounted ? perfCounts.syscalls().total() : Double.NaN,
                perfCounted ? perfCounts.contextSwitches().total() : procContextSwitches.total(),
                perfCounted ? "perf" : "/proc", perfCounts.missing(), true);
    }
}
