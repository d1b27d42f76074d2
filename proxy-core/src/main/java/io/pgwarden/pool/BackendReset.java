package io.pgwarden.pool;

import io.pgwarden.backend.BackendConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a backend safe for its next client after the last one left: ROLLBACK when a transaction is open,
 * then the reset query (session mode). Only a backend that answers every query cleanly and ends idle
 * goes back to the pool; anything else is closed.
 */
final class BackendReset {

    private BackendReset() {
    }

    /** Takes over {@code backend}, which must have nothing in flight. */
    static void start(BackendPool pool, BackendConnection backend, boolean inTransaction, String resetQuery) {
        boolean clearsSession = resetQuery != null && !resetQuery.isBlank();
        List<String> queries = new ArrayList<>(2);
        if (inTransaction) {
            queries.add("ROLLBACK");
        }
        if (clearsSession) {
            queries.add(resetQuery);
        }
        if (queries.isEmpty()) {
            pool.release(backend);
            return;
        }
        OneShotQuery.send(backend, BackendConnection::toResetting, queries, Duration.ZERO, clean -> {
            if (!clean) {
                pool.discard(backend, backend.isUsable() ? "reset before reuse failed"
                        : backend.closeReason() != null ? backend.closeReason() : "closed during reset");
                return;
            }
            if (clearsSession) {
                // DISCARD ALL also dropped the statements and settings pgwarden knew the backend had.
                backend.prepared().clear();
                backend.forgetSettings();
            }
            pool.release(backend);
        });
    }
}
