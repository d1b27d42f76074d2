package io.pgwarden.session;

import io.netty.channel.Channel;
import io.pgwarden.backend.BackendConnection;
import java.util.function.Supplier;

/**
 * When a link's two sockets are flushed: what a read batch wrote goes out once at the batch's end, not per
 * message, and the client's answers wait for the end of the event-loop round so that answers to many clients
 * leave in one burst.
 */
final class LinkFlushes {

    private final Channel client;
    private final Supplier<BackendConnection> backend;
    private final Runnable deferredClientFlush = this::flushClientNow;
    private boolean backendPending;
    private boolean clientPending;
    private boolean clientScheduled;

    LinkFlushes(Channel client, Supplier<BackendConnection> backend) {
        this.client = client;
        this.backend = backend;
    }

    void backendWritten() {
        backendPending = true;
    }

    void clientWritten() {
        clientPending = true;
    }

    void flushBackend() {
        backendPending = false;
        backend.get().flush();
    }

    /** Flushes what this read batch wrote, to either side. */
    void flush() {
        if (clientPending) {
            clientPending = false;
            client.flush();
        }
        if (backendPending) {
            backendPending = false;
            BackendConnection b = backend.get();
            if (b != null) {
                b.flush();
            }
        }
    }

    /**
     * Flushes the client once this event-loop round has handled all its ready sockets: a client process serving
     * many connections (pgbench, an app server's pool) then wakes once for all of them instead of once for each.
     */
    void flushClientSoon() {
        // Measured on io_uring too, where the ring batches the sends of a round anyway: flushing at once saved
        // 7-10 % of the user time but lost TPS in 13 of 20 alternated runs (bench/results/cpu.md, "Quiet round").
        if (!clientScheduled) {
            clientScheduled = true;
            client.eventLoop().execute(deferredClientFlush);
        }
    }

    private void flushClientNow() {
        clientScheduled = false;
        client.flush();
    }
}
