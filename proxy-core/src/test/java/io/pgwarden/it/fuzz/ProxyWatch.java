package io.pgwarden.it.fuzz;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.pgwarden.ProxyApplication;
import io.pgwarden.testsupport.NettyLeakCheck;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;
import org.slf4j.LoggerFactory;

/**
 * What the fuzzer holds against the proxy, whatever the cases sent: log lines that show a fault (any ERROR, a
 * WARN with an exception, from Netty, or not on the list of warnings a misbehaving client may cause), backends
 * lost for any reason but pgwarden closing them on purpose, Netty leak reports, and memory that keeps growing.
 */
final class ProxyWatch implements AutoCloseable {

    /** Warnings about clients, which broken clients rightly cause. */
    private static final Set<String> CLIENT_WARNINGS = Set.of("event=pool_exhausted", "event=idle_in_transaction",
            "event=client_refused", "event=cancel_unconfirmed", "event=notifications_dropped");
    /** Backends pgwarden itself ends: a client that broke its own backend's session gets it discarded so. */
    private static final Set<String> CLEAN_LOSSES = Set.of("closed_by_pgwarden", "idle_timeout", "lifetime_expired");
    /**
     * PostgreSQL ends a session whose client sent a message other than CopyData, CopyDone, CopyFail, Flush or Sync
     * during COPY FROM STDIN (an ERROR while reading a message is FATAL there). pgwarden refuses such a message
     * itself once the backend has said the COPY began; a client that pipelines one behind its COPY statement,
     * before that answer, still reaches PostgreSQL, which ends that client's own backend, as it would directly.
     * The control client proves nobody else is hurt. Counted, not failed.
     */
    static final String SELF_INFLICTED_LOSS = "reason_class=server_shutdown"
            + " reason=\"08P01 terminating connection because protocol synchronization was lost\"";
    private final Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    private final Logger pgwarden = (Logger) LoggerFactory.getLogger("io.pgwarden");
    /** Its INFO line for each closed backend says why, at the moment it happens: the case running then did it. */
    private final Logger backends = (Logger) LoggerFactory.getLogger("io.pgwarden.backend.BackendHandler");
    private final Level pgwardenLevel;
    private final Level backendsLevel;
    private final Appender appender;
    private final ProxyApplication proxy;
    private final Map<String, Long> lossesAtStart;

    /** @param inFlight describes the cases running when a bad line is logged, so the report can name them */
    ProxyWatch(ProxyApplication proxy, Supplier<String> inFlight) {
        this.proxy = proxy;
        this.appender = new Appender(inFlight);
        appender.setContext(root.getLoggerContext());
        appender.start();
        root.addAppender(appender);
        // A case's INFO lines (logins, refusals) would be most of a long run's output, and are not checked.
        pgwardenLevel = pgwarden.getLevel();
        pgwarden.setLevel(Level.WARN);
        backendsLevel = backends.getLevel();
        backends.setLevel(Level.INFO);
        backends.addAppender(appender);
        backends.setAdditive(false);
        lossesAtStart = losses();
    }

    /** Everything found so far that fails the run; empty when all is well. */
    List<String> problems() {
        List<String> problems = new java.util.ArrayList<>(appender.problems);
        Map<String, Long> now = losses();
        now.forEach((reason, count) -> {
            long lost = count - lossesAtStart.getOrDefault(reason, 0L);
            if (reason.equals("server_shutdown")) {
                lost -= appender.selfInflicted.get();
            } else if (reason.equals("login_failed")) {
                lost -= appender.slowServerLogins.get();
            }
            if (lost > 0 && !CLEAN_LOSSES.contains(reason)) {
                problems.add(lost + " backend(s) lost with reason " + reason + " (all losses: " + now + ")");
            }
        });
        return problems;
    }

    /** Backends lost by their own client's COPY, and slow PostgreSQL logins: reported, not failed. */
    String tolerated() {
        return appender.selfInflicted.get() + " backend(s) lost to their own client's message during COPY IN, "
                + appender.slowServerLogins.get() + " PostgreSQL login(s) slower than connect_timeout";
    }

    /** Netty's leak reports so far (after forcing a collection); they are consumed. */
    static List<String> leaks() {
        return NettyLeakCheck.collectLeaks();
    }

    /** Heap after a full collection plus direct memory held by Netty and NIO, in bytes. */
    static long retainedBytes() {
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long direct = 0;
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider metrics) {
            direct += metrics.metric().usedDirectMemory();
        }
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                direct += pool.getMemoryUsed();
            }
        }
        return heap + direct;
    }

    /** The process's resident set in bytes, from /proc (0 where there is none): reported, not judged. */
    static long rssBytes() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    Map<String, Long> losses() {
        Map<String, Long> byReason = new TreeMap<>();
        for (MetricSnapshot snapshot : proxy.context().metrics().registry().scrape()) {
            if (snapshot instanceof CounterSnapshot counter
                    && counter.getMetadata().getPrometheusName().startsWith("pgwarden_backend_losses")) {
                counter.getDataPoints().forEach(p -> byReason.put(p.getLabels().get("reason"), (long) p.getValue()));
            }
        }
        return byReason;
    }

    @Override
    public void close() {
        root.detachAppender(appender);
        backends.detachAppender(appender);
        backends.setAdditive(true);
        backends.setLevel(backendsLevel);
        appender.stop();
        pgwarden.setLevel(pgwardenLevel);
    }

    /** Keeps only the lines that fail the run, so that a long run's memory stays flat. */
    private static final class Appender extends AppenderBase<ILoggingEvent> {
        private static final int KEPT = 20;
        final Queue<String> problems = new ConcurrentLinkedQueue<>();
        final java.util.concurrent.atomic.AtomicLong selfInflicted = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong slowServerLogins = new java.util.concurrent.atomic.AtomicLong();
        private final Supplier<String> inFlight;

        Appender(Supplier<String> inFlight) {
            this.inFlight = inFlight;
        }

        @Override
        protected void append(ILoggingEvent e) {
            if (!fails(e) || problems.size() >= KEPT) {
                return;
            }
            String thrown = e.getThrowableProxy() == null ? ""
                    : "\n" + ThrowableProxyUtil.asString(e.getThrowableProxy());
            problems.add(e.getLevel() + " " + e.getLoggerName() + " [" + e.getThreadName() + "]: "
                    + e.getFormattedMessage() + thrown + "\n  while running: " + inFlight.get());
        }

        private boolean fails(ILoggingEvent e) {
            if (e.getMessage().startsWith("event=server_open_failed")
                    && e.getFormattedMessage().contains(" timed out after ")) {
                // A login to PostgreSQL slower than connect_timeout: the machine is loaded. Failing logins and
                // control clients would show anything worse.
                slowServerLogins.incrementAndGet();
                return false;
            }
            if (e.getLevel().isGreaterOrEqual(Level.ERROR)) {
                return true;
            }
            if (e.getMessage().startsWith("event=server_close")) {
                String line = e.getFormattedMessage();
                if (line.endsWith(SELF_INFLICTED_LOSS)) {
                    selfInflicted.incrementAndGet();
                    return false;
                }
                return CLEAN_LOSSES.stream().noneMatch(reason -> line.contains(" reason_class=" + reason + " "));
            }
            if (!e.getLevel().isGreaterOrEqual(Level.WARN)) {
                return false;
            }
            if (e.getLoggerName().startsWith("io.netty")) {
                return true;
            }
            if (!e.getLoggerName().startsWith("io.pgwarden")) {
                return false;
            }
            if (e.getThrowableProxy() != null) {
                return true;
            }
            String message = e.getMessage();
            return CLIENT_WARNINGS.stream().noneMatch(message::startsWith);
        }
    }
}
