package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendListener;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.FrontendMessages;
import io.pgwarden.protocol.Tags;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a backend safe for its next client after the last one left: ROLLBACK when a transaction is open,
 * then the reset query (session mode). Only a backend that answers every query cleanly and ends idle
 * goes back to the pool; anything else is closed.
 */
final class BackendReset implements BackendListener {

    private final BackendPool pool;
    /** A reset query (DISCARD ALL) also drops the statements and settings pgwarden knew the backend had. */
    private final boolean clearsSession;
    private int answersOwed;
    private boolean failed;

    private BackendReset(BackendPool pool, boolean clearsSession) {
        this.pool = pool;
        this.clearsSession = clearsSession;
    }

    /** Takes over {@code backend}, which must have nothing in flight. */
    static void start(BackendPool pool, BackendConnection backend, boolean inTransaction, String resetQuery) {
        List<String> queries = new ArrayList<>(2);
        if (inTransaction) {
            queries.add("ROLLBACK");
        }
        if (resetQuery != null && !resetQuery.isBlank()) {
            queries.add(resetQuery);
        }
        if (queries.isEmpty()) {
            pool.release(backend);
            return;
        }
        BackendReset reset = new BackendReset(pool, resetQuery != null && !resetQuery.isBlank());
        reset.answersOwed = queries.size();
        backend.toResetting(reset);
        // Each query is its own message: DISCARD ALL refuses to run inside the implicit transaction of a multi-statement query.
        for (String query : queries) {
            ByteBuf out = backend.channel().alloc().buffer();
            FrontendMessages.query(out, query);
            backend.write(out);
        }
        backend.flush();
        if (!backend.isUsable()) {
            pool.discard(backend, "closed during reset");
        }
    }

    @Override
    public void onBackendMessage(BackendConnection backend, ByteBuf message) {
        try {
            byte tag = Frames.tag(message);
            if (tag == Tags.Backend.ERROR_RESPONSE) {
                failed = true;
            } else if (tag == Tags.Backend.READY_FOR_QUERY && --answersOwed == 0) {
                if (failed || Frames.readyForQueryStatus(message) != 'I') {
                    pool.discard(backend, "reset before reuse failed");
                } else {
                    if (clearsSession) {
                        backend.prepared().clear();
                        backend.forgetSettings();
                    }
                    pool.release(backend);
                }
            }
        } finally {
            message.release();
        }
    }

    @Override
    public void onBackendClosed(BackendConnection backend, String reason) {
        pool.discard(backend, reason);
    }
}
