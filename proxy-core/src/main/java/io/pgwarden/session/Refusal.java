package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;

/**
 * A client message refused after login (an unknown type, an unreadable Parse). PostgreSQL answers what came
 * before it in order and only then ends the connection; ending it at once would leave a request in flight and cost
 * the backend, which in a pool belongs to other clients too. So the FATAL waits until the backend has answered,
 * while nothing more is read from the client.
 */
final class Refusal {

    private final ClientSession s;
    private ErrorResponse error;

    Refusal(ClientSession s) {
        this.s = s;
    }

    /**
     * True when {@code message} goes no further (and is released): a message was refused before it, or the backend
     * is in COPY FROM STDIN and would ignore it or end the connection on it (see {@link CopyIn}).
     */
    /** True once a message was refused: the rest of a large message arriving after it is dropped too. */
    boolean isRefused() {
        return error != null;
    }

    boolean intercepts(ByteBuf message) {
        if (error != null) {
            message.release();
            return true;
        }
        if (!s.link.isBound()) {
            return false;
        }
        byte tag = Frames.tag(message);
        CopyIn.Verdict verdict = s.link.copyIn().onClientMessage(tag);
        if (verdict == CopyIn.Verdict.RELAY) {
            return false;
        }
        message.release();
        if (verdict == CopyIn.Verdict.UNEXPECTED) {
            s.link.abortCopy(tag);
            // PostgreSQL's words: it read the type but not the body, so nothing after it can be framed.
            refuse(ErrorResponse.fatal("08P01", "terminating connection because protocol synchronization was lost"));
        }
        return true;
    }

    void refuse(ErrorResponse why) {
        if (error != null || s.state() == ClientState.CLOSED) {
            return;
        }
        error = why;
        s.gate.pause(ReadGate.Reason.REFUSED);
        if (s.link.isBound() && s.link.pending().extendedBatchOpen()) {
            // PostgreSQL would skip to the client's Sync after its ERROR; that Sync will never be read now, so
            // pgwarden sends its own, and what the batch owes the client still reaches it before the FATAL.
            s.link.hidden().sync(null, null);
        }
        tryNow();
    }

    /** On every state change: a client gone quiet gets its FATAL, after whatever else this loop turn does. */
    void onTransition(ClientState next) {
        if (error != null && next.isLoggedIn() && next != ClientState.ACTIVE && !next.isWaiting()) {
            s.eventLoop().execute(this::tryNow);
        }
    }

    private void tryNow() {
        if (s.state() == ClientState.CLOSED || (s.link.isBound() && !s.link.pending().isQuiet())) {
            return;
        }
        s.fatal(error, ClientCloseReason.PROTOCOL_VIOLATION);
    }
}
