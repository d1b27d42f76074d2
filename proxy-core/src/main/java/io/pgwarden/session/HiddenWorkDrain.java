package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendListener;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import java.util.concurrent.TimeUnit;

/**
 * A client left while only pgwarden's own work (the read-back of its settings, an UNLISTEN) was in flight on its
 * backend: a client running SET and leaving at once does so routinely. The answers are read and dropped, and the
 * backend is then reset and released like any other, instead of being cancelled and replaced.
 */
final class HiddenWorkDrain implements BackendListener {

    /** Hidden work is a query or two; a backend silent this long is stuck and is not worth keeping. */
    private static final long TIMEOUT_MS = 10_000;

    private final EventLoop loop;
    private final BackendPool pool;
    private final BackendConnection backend;
    private final PendingResponses pending;
    private final String resetQuery;
    private final Runnable cancel;
    private TransactionStatus status;
    private ScheduledFuture<?> timer;
    private boolean done;

    private HiddenWorkDrain(EventLoop loop, BackendPool pool, BackendConnection backend, PendingResponses pending,
                            TransactionStatus status, String resetQuery, Runnable cancel) {
        this.loop = loop;
        this.pool = pool;
        this.backend = backend;
        this.pending = pending;
        this.status = status;
        this.resetQuery = resetQuery;
        this.cancel = cancel;
    }

    /**
     * Takes over {@code backend} from {@code link}, on the link's client loop; the link's {@code pending} must
     * {@link PendingResponses#owesOnlyOwnWork owe only pgwarden's own work}. Answers already on their way to the
     * link are handed on by it, and later ones come through the same loop, so none is lost or reordered.
     * {@code cancel} runs if the work does not finish in time.
     */
    static void start(EventLoop loop, BackendLink link, BackendPool pool, BackendConnection backend,
                      TransactionStatus status, String resetQuery, Runnable cancel) {
        HiddenWorkDrain drain = new HiddenWorkDrain(loop, pool, backend, link.pending(), status, resetQuery, cancel);
        link.handOver(backend, drain);
        backend.toResetting(drain);
        // What the read-back would have told us about the backend's settings is lost with the client.
        backend.loseSettings();
        backend.flush();
        drain.timer = loop.schedule(drain::expire, TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    private void expire() {
        if (!done) {
            done = true;
            cancel.run();
            pool.discard(backend, "client left and pgwarden's own request did not finish");
        }
    }

    @Override
    public void onBackendMessage(BackendConnection from, ByteBuf message) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onBackendMessage(from, message));
            return;
        }
        try {
            if (done) {
                return;
            }
            byte tag = Frames.tag(message);
            pending.onBackendMessage(tag);
            if (tag == Tags.Backend.READY_FOR_QUERY) {
                status = TransactionStatus.fromWire(Frames.readyForQueryStatus(message));
                if (pending.isQuiet()) {
                    done = true;
                    timer.cancel(false);
                    pool.resetAndRelease(backend, status != TransactionStatus.IDLE, resetQuery);
                }
            }
        } finally {
            message.release();
        }
    }

    @Override
    public void onBackendClosed(BackendConnection from, String reason) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onBackendClosed(from, reason));
            return;
        }
        if (!done) {
            done = true;
            timer.cancel(false);
            pool.discard(backend, reason != null ? reason : "server connection lost");
        }
    }
}
