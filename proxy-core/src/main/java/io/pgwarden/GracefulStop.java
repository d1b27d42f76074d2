package io.pgwarden;

import io.pgwarden.server.ProxyServer;
import io.pgwarden.session.Drain;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The order of a graceful stop once /ready answers 503: the listening socket closes (no new clients), clients leave
 * at their transaction boundaries ({@link Drain}) until none is left or listen.shutdown_timeout has passed, then
 * the rest are closed. The caller closes the pools and the event loops afterwards.
 */
final class GracefulStop {

    private static final Logger log = LoggerFactory.getLogger(GracefulStop.class);
    /** How often the stop looks whether every client is gone: the exit is at most this late. */
    private static final long POLL_MILLIS = 20;
    /** How long the closes at the deadline may take before the event loops are shut anyway. */
    private static final long CUT_WAIT_MILLIS = 2_000;

    private final ProxyServer server;
    private final Drain drain;

    GracefulStop(ProxyServer server, Drain drain) {
        this.server = server;
        this.drain = drain;
    }

    /** @param abandoned true once an immediate stop overtook this one, which then ends at once */
    void run(Duration timeout, BooleanSupplier abandoned) {
        server.stopAccepting();
        int clients = drain.begin();
        log.info("event=drain_start timeout_ms={} clients={}", timeout.toMillis(), clients);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!drain.isEmpty() && System.nanoTime() - deadline < 0 && !abandoned.getAsBoolean()) {
            try {
                TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!abandoned.getAsBoolean()) {
            drain.cutTheRest(CUT_WAIT_MILLIS);
        }
        Drain.Outcome outcome = drain.outcome();
        log.info("event=drain_done closed_idle={} finished={} cut={}", outcome.closedIdle(), outcome.finished(),
                outcome.cut());
    }
}
