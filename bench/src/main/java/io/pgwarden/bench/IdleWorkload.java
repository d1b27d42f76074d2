package io.pgwarden.bench;

import io.pgwarden.bench.Workloads.Run;
import io.pgwarden.bench.Workloads.Target;
import io.pgwarden.bench.Workloads.Workload;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Thousands of idle clients on pgwarden: the heap each one costs, and whether ten active clients notice them.
 * pgbench -S -c 10 runs before (twice, around the idle clients, to average out drift) and while they are held.
 */
final class IdleWorkload {

    private IdleWorkload() {
    }

    static String measure(Workloads runner, Target warden, Proxy process, int count, Consumer<String> log)
            throws Exception {
        Workload w = Workloads.plan(List.of(10), List.of("simple"), List.of("select"), 0).get(0);
        Run before = runner.run(w, warden, 1);
        long heap0 = JvmProbe.liveHeapBytes(process.pid());
        long rss0 = JvmProbe.rss(process.pid());
        long started = System.nanoTime();
        Run during;
        long heap1;
        long rss1;
        long closed;
        double openSeconds;
        try (IdleClients idle = IdleClients.open(warden.port(), Postgres.DATABASE, count, 8)) {
            openSeconds = (System.nanoTime() - started) / 1e9;
            heap1 = JvmProbe.liveHeapBytes(process.pid());
            rss1 = JvmProbe.rss(process.pid());
            log.accept(String.format(Locale.ROOT, "idle: %d clients logged in in %.1f s; heap %+.0f KiB per client",
                    idle.size(), openSeconds, (heap1 - heap0) / 1024.0 / count));
            during = runner.run(w, warden, 2);
            closed = idle.closedByProxy();
        }
        Run after = runner.run(w, warden, 3);
        double alone = (before.throughput() + after.throughput()) / 2;
        String heapPer = String.format(Locale.ROOT, "%.2f KiB", (heap1 - heap0) / 1024.0 / count);
        String rssPer = String.format(Locale.ROOT, "%.2f KiB", (rss1 - rss0) / 1024.0 / count);
        return String.format(Locale.ROOT, """
                ## %d idle clients on pgwarden

                %d clients (MD5 logins over raw sockets, %.1f s to open them all) log in and stay idle. Heap is \
                the bytes of live objects (jcmd GC.class_histogram, which collects first) before and after they connect; \
                pgbench -S -M simple -c 10 runs before, while they are held, and after they leave.

                | measure | value |
                |---|---:|
                | heap per idle client | %s |
                | RSS growth per idle client (heap as the JVM grew it, Netty buffers; socket buffers live in the kernel) | %s |
                | heap in use before / with the clients | %.1f MB / %.1f MB |
                | TPS of 10 active clients, before / after | %.0f / %.0f |
                | TPS of 10 active clients with the idle ones held | %.0f |
                | ratio with / without | %.2f |
                | idle clients closed by pgwarden | %d |
                """, count, count, openSeconds, heapPer, rssPer, heap0 / 1e6, heap1 / 1e6, before.throughput(),
                after.throughput(), during.throughput(), during.throughput() / alone, closed);
    }
}
