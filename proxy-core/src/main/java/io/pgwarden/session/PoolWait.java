package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.cluster.Cluster;
import io.pgwarden.pool.PoolWaiter;
import io.pgwarden.protocol.BackendMessages;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client's dealings with its pool: asking for a backend, being handed one (or an error, or nothing before
 * query_wait_timeout), and giving it back. The pool knows the client by this object.
 */
final class PoolWait implements PoolWaiter {

    private static final Logger log = LoggerFactory.getLogger(PoolWait.class);

    private final ClientSession s;
    private final ProxyContext context;

    PoolWait(ClientSession session, ProxyContext context) {
        this.s = session;
        this.context = context;
    }

    @Override
    public EventLoop eventLoop() {
        return s.eventLoop();
    }

    void waitForBackend() {
        if (s.state() != ClientState.LOGIN_WAITING) {
            s.transition(ClientState.WAITING);
        }
        BackendConnection ready = s.pool().acquire(this);
        if (ready != null) {
            onBackendAcquired(ready);
        }
        // Otherwise the pool calls back; the janitor enforces query_wait_timeout (no timer per wait: under a full
        // pool most transactions wait, and scheduling and cancelling a timer for each was measurable).
    }

    @Override
    public long waitingSinceNanos() {
        return s.times.waitStart;
    }

    @Override
    public void onAcquireFailed(ErrorResponse error) {
        // A missing database is the client's to hear as PostgreSQL words it, as it would without pgwarden.
        failWaitingRequest(ErrorResponse.error(error.sqlstate(), "3D000".equals(error.sqlstate()) ? error.message()
                : "pgwarden could not log in to PostgreSQL: " + error.message()));
    }

    /** No backend: answer the queued requests with the error, as PostgreSQL would answer a failed request. */
    void failWaitingRequest(ErrorResponse error) {
        if (s.state() == ClientState.LOGIN_WAITING) {
            s.fatal(ErrorResponse.fatal(error.sqlstate(), error.message()).withDetail(error.detail()),
                    ClientCloseReason.SERVER_LOGIN_FAILED);
        } else if (s.state() == ClientState.WAITING) {
            answerQueued(error);
        }
    }

    void answerQueued(ErrorResponse error) {
        ByteBuf out = s.channel().alloc().buffer();
        s.queue.answerAll(out, error, s.transactionStatus.wireByte());
        s.transition(ClientState.quietIn(s.transactionStatus));
        s.channel().writeAndFlush(out, s.channel().voidPromise());
        s.gate.resume(ReadGate.Reason.QUEUE_FULL);
    }

    @Override
    public void onBackendAcquired(BackendConnection acquired) {
        if (!s.state().isWaiting()) {
            s.pool().release(acquired);
            return;
        }
        if (!acquired.isUsable()) {
            s.pool().discard(acquired, "server connection lost before use");
            waitForBackend();
            return;
        }
        if (s.state() == ClientState.WAITING) {
            observeWait(s.now() - s.times.waitStart);
        }
        s.link.bind(acquired);
        if (s.state() == ClientState.LOGIN_WAITING) {
            s.login.onBackend(acquired);
            return;
        }
        if (s.recovery.replayMovedTo(acquired)) {
            context.pools().clusters().of(s.pool().key().database()).ifPresent(Cluster::replayedAcrossHosts);
        }
        s.recovery.replay().onLink();
        if (s.mode.checksLinkFirst() && s.now() - acquired.verifiedAtNanos()
                >= s.pool().settings().server().replayCheckAfter().toNanos()) {
            // A backend back from a transaction moments ago is all but certainly alive, and under load this Sync
            // would cost PostgreSQL an extra flush per transaction; one that sat idle may have been terminated.
            s.link.hidden().canary();
        }
        s.settingsSync.applyOn(s.link);
        s.recovery.restoreOn(s.link, s.mode.sessionState());
        drainQueue();
        if (s.state() == ClientState.WAITING) {
            // Forwarding made it ACTIVE; only a wait with nothing left to send settles here. One transition, not
            // two, per transaction: each moves the pool's shared counts.
            s.transition(ClientState.quietIn(s.transactionStatus));
        }
    }

    private void observeWait(long waitedNanos) {
        s.pool().stats().addWait(waitedNanos / 1_000);
        DistributionDataPoint histogram = s.poolClients.waitHistogram();
        if (histogram == null) {
            histogram = s.poolClients.rememberWaitHistogram(
                    context.metrics().waitHistogram(s.pool().key().database(), s.pool().key().user()));
        }
        histogram.observe(waitedNanos / 1e9);
    }

    void drainQueue() {
        ByteBuf message;
        while (s.link.isBound() && (message = s.queue.poll()) != null) {
            s.forward(message, Frames.tag(message));
        }
        if (!s.inClientRead) {
            // Inside a client read the rest of the batch (B/D/E/S after a P) is still to come: flushing now
            // would split it into two writes, and PostgreSQL into two reads. The read's end flushes it all.
            s.link.flush();
        }
        s.gate.resume(ReadGate.Reason.QUEUE_FULL);
    }

    /** After a login that only borrowed a backend: requests that arrived meanwhile get one now. */
    void waitIfQueued() {
        if (!s.queue.isEmpty()) {
            waitForBackend();
        }
    }

    void releaseBackend(BackendConnection b) {
        s.link.flushClientSoon();
        s.link.unbind();
        if (s.stream.isMidMessageOn(b)) {
            // PostgreSQL answered before the client's message was all there (a COPY that failed on an earlier
            // row): the backend would read the next client's bytes as the rest of it.
            s.pool().discard(b, "released in the middle of a client message");
        } else {
            s.pool().release(b);
        }
        s.gate.resume(ReadGate.Reason.QUEUE_FULL);
    }

    /** A message while the client has no backend: queued until one comes, or answered without one. */
    void withoutBackend(ByteBuf message, byte tag) {
        if (s.queue.isDiscarding()) {
            if (s.transactionStatus == TransactionStatus.FAILED_TRANSACTION
                    && s.recovery.skipsEndOfLostTransaction(message, tag)) {
                // A pipeline that went on to COMMIT or ROLLBACK its lost transaction asked to end it, and it has
                // ended: the client is out of it when its Sync is answered, as it would be had the batch run.
                leaveTransaction();
            }
            if (s.queue.skip(message, tag)) {
                s.transition(ClientState.quietIn(s.transactionStatus));
                ByteBuf out = s.channel().alloc().buffer(6);
                BackendMessages.readyForQuery(out, s.transactionStatus.wireByte());
                s.channel().writeAndFlush(out, s.channel().voidPromise());
            }
            return;
        }
        boolean waiting = s.state().isWaiting();
        ServerLossRecovery.LostAnswer lost = waiting ? null : s.recovery.onRequestAfterLoss(message, tag);
        if (lost != null && lost.error() != null) {
            if (lost.status() == TransactionStatus.IDLE) {
                leaveTransaction();
            }
            s.queue.add(message);
            answerQueued(lost.error());
            return;
        }
        if (lost != null) {
            ByteBuf notice = s.channel().alloc().buffer();
            lost.notice().encodeAsNotice(notice);
            s.channel().write(notice, s.channel().voidPromise());
        }
        boolean full = s.queue.add(message);
        if (!waiting) {
            waitForBackend();
        } else if (full) {
            // A client that pipelines while it waits must not make us queue without bound.
            s.gate.pause(ReadGate.Reason.QUEUE_FULL);
        }
    }

    private void leaveTransaction() {
        s.transactionStatus = TransactionStatus.IDLE;
        s.times.transactionStart = 0;
        s.notes.onIdle();
    }

    /**
     * A CancelRequest named this client; from any thread. Read on the client's loop, the backend cannot be handed to
     * another client before {@link io.pgwarden.backend.BackendConnection#cancelStarted} holds it back. A request
     * still waiting for a backend is answered as PostgreSQL answers a cancelled statement (it would have been
     * running there), instead of running later. Completes once PostgreSQL has the cancel, or at once.
     */
    Future<Void> cancelRequest() {
        Promise<Void> done = s.eventLoop().newPromise();
        s.eventLoop().execute(() -> {
            BackendConnection b = s.linkedBackend();
            if (b != null) {
                log.info("event=cancel client={} pid={}", s.id(), b.processId());
                context.cancelForwarder().cancel(s.eventLoop(), b).addListener(f -> done.trySuccess(null));
                return;
            }
            if (s.state() == ClientState.WAITING && s.pool().cancelWait(this)) {
                log.info("event=cancel client={} waiting_ms={}", s.id(), (s.now() - s.times.waitStart) / 1_000_000);
                answerQueued(ErrorResponse.error("57014", "canceling statement due to user request"));
            }
            done.trySuccess(null);
        });
        return done;
    }

    /**
     * Gives the backend back clean, after pgwarden's own work still in flight on it has finished, or closes it
     * when the client's requests are in flight.
     */
    void returnBackend(BackendConnection b) {
        if (!b.isUsable()) {
            s.pool().discard(b, "server connection lost");
        } else if (s.link.pending().owesOnlyOwnWork()) {
            HiddenWorkDrain.start(s.eventLoop(), s.link, s.pool(), b, s.transactionStatus,
                    s.mode.resetsWithQuery() ? s.pool().settings().serverResetQuery() : null,
                    () -> context.cancelForwarder().cancel(b.eventLoop(), b));
        } else if (!s.link.pending().isQuiet()) {
            context.cancelForwarder().cancel(s.eventLoop(), b);
            s.pool().discard(b, "client left with a request in flight");
        } else {
            s.pool().resetAndRelease(b, s.transactionStatus != TransactionStatus.IDLE,
                    s.mode.resetsWithQuery() ? s.pool().settings().serverResetQuery() : null);
        }
    }
}
