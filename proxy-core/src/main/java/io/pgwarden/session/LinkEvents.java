package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.log.LogValues;
import io.pgwarden.metrics.ServerLossMoment;
import io.pgwarden.protocol.BackendMessages;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a client's link to its backend reports, and what the session makes of it: transaction bookkeeping at
 * each ReadyForQuery, what happens to the backend when the client goes quiet, and the outcome of a lost backend.
 */
final class LinkEvents implements BackendLinkEvents {

    private static final Logger log = LoggerFactory.getLogger(LinkEvents.class);

    private final ClientSession s;
    private final ProxyContext context;

    LinkEvents(ClientSession session, ProxyContext context) {
        this.s = session;
        this.context = context;
    }

    @Override
    public void onReadyForQuery(TransactionStatus now, boolean toClient) {
        if (toClient) {
            // Bookkeeping first: the console reads the status from another thread and expects the rest set.
            s.times.lastActivity = System.nanoTime();
            s.recovery.onReadyForQuery();
            if (now == TransactionStatus.IDLE) {
                s.times.transactionStart = 0;
                s.notes.onIdle();
                s.link.transactionDone(s.pool().stats());
            } else if (s.transactionStatus == TransactionStatus.IDLE || s.times.transactionStart == 0) {
                s.times.transactionStart = s.times.requestStart;
                s.notes.onTransactionStart();
            }
        }
        s.transactionStatus = now;
    }

    @Override
    public void afterReadyForQuery(BackendConnection from) {
        if (!s.link.pending().isQuiet() || s.state() == ClientState.LOGIN_WAITING) {
            return;
        }
        s.transition(ClientState.quietIn(s.transactionStatus));
        if (s.transactionStatus != TransactionStatus.IDLE) {
            return;
        }
        switch (s.mode.atIdle()) {
            case READ_BACK_SETTINGS -> {
                s.settingsSync.readBackOn(s.link);
                s.link.flushBackend();
            }
            case UNLISTEN -> {
                if (!s.mode.tidyListening(s, from)) {
                    s.wait.releaseBackend(from);
                }
            }
            case RELEASE -> s.wait.releaseBackend(from);
            case KEEP -> {
            }
        }
        s.mode.afterIdle(s);
    }

    @Override
    public void onCommandComplete(ByteBuf commandComplete) {
        s.mode.onCommandComplete(commandComplete, s.link);
    }

    @Override
    public boolean holdsReadyForQuery(ByteBuf readyForQuery) {
        return s.mode.holdsReadyForQuery(readyForQuery);
    }

    @Override
    public void onApplicationName(String value) {
        s.applicationName = value;
    }

    @Override
    public boolean replaysReadOnlyErrors() {
        return s.transactionStatus == TransactionStatus.IDLE && s.mode.sessionState() == null;
    }

    @Override
    public void onReadOnlyReplay(BackendConnection from, java.util.List<ByteBuf> requests) {
        s.link.unbind();
        s.pool().discard(from, from.liveRole().retiredBecause() != null ? from.liveRole().retiredBecause()
                : "server no longer takes writes");
        s.queue.addFirst(requests);
        s.link.pending().clear();
        log.info("event=replay client={} messages={} reason={}", s.id(), requests.size(),
                LogValues.quote("read-only error (25006) from a demoted server: " + from.liveRole().retiredBecause()));
        context.metrics().replayedRequest();
        s.recovery.replayingFrom(from);
        s.transition(ClientState.quietIn(s.transactionStatus));
        s.wait.waitForBackend();
    }

    @Override
    public void onBackendLost(BackendConnection from, String reason) {
        s.mode.onBackendLost(s);
        s.link.unbind();
        s.pool().discard(from, reason);
        String loss = ServerLossRecovery.describe(from);
        s.lastBackendLoss = loss;
        if (s.state() == ClientState.LOGIN_WAITING) {
            // Lost while it applied the startup settings: the client has not been told anything yet, so its
            // login simply goes on with another backend.
            s.link.pending().clear();
            s.link.captureLoginParameters(null);
            s.wait.waitForBackend();
            return;
        }
        boolean inTransaction = s.transactionStatus != TransactionStatus.IDLE;
        PendingResponses pending = s.link.pending();
        boolean owedNothing = pending.clientOwedNothing();
        ServerLossMoment during = s.recovery.moment(inTransaction, owedNothing);
        ServerLossRecovery.Outcome outcome = s.recovery.onLoss(from, inTransaction, owedNothing, s.mode.sessionState());
        if (outcome instanceof ServerLossRecovery.Replay replay) {
            s.queue.addFirst(replay.requests());
            pending.clear();
            log.info("event=replay client={} messages={} reason={}", s.id(), replay.requests().size(),
                    LogValues.quote(loss));
            context.metrics().replayedRequest();
            s.recovery.replayingFrom(from);
            s.transition(ClientState.quietIn(s.transactionStatus));
            s.wait.waitForBackend();
            return;
        }
        if (outcome instanceof ServerLossRecovery.Close close) {
            s.fatal(close.fatal(), ClientCloseReason.SERVER_LOST);
            return;
        }
        log.info("event=client_lost_server client={} server={} in_transaction={} lost_during={} reason={}", s.id(),
                from.id(), inTransaction, during == null ? null : during.label(), LogValues.quote(loss));
        if (during != null) {
            context.metrics().clientErrorFromServerLoss(during);
        }
        TransactionStatus after = TransactionStatus.FAILED_TRANSACTION;
        if (outcome instanceof ServerLossRecovery.AnswerOwed owed) {
            ByteBuf out = s.channel().alloc().buffer();
            if (owed.rolledBack() && pending.owesOneQuery()) {
                // What the client's ROLLBACK asked for is what happened.
                BackendMessages.commandComplete(out, "ROLLBACK");
                BackendMessages.readyForQuery(out, TransactionStatus.IDLE.wireByte());
                pending.clear();
            } else {
                s.queue.discardUntilSync(pending.answerAllWith(out, owed.error(), owed.status().wireByte()));
            }
            s.channel().writeAndFlush(out, s.channel().voidPromise());
            after = owed.status();
        }
        pending.clear();
        if (inTransaction) {
            s.transactionStatus = after;
            if (after == TransactionStatus.IDLE) {
                s.times.transactionStart = 0;
                s.notes.onIdle();
            }
        }
        s.transition(ClientState.quietIn(s.transactionStatus));
        s.gate.resume(ReadGate.Reason.QUEUE_FULL);
    }
}
