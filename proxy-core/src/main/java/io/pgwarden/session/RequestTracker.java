package io.pgwarden.session;

import io.pgwarden.protocol.Tags;

/**
 * Counts the ReadyForQuery messages a backend still owes, so a backend is never released while a pipelined
 * request (or an extended-protocol batch not yet closed by Sync) is still on it.
 */
final class RequestTracker {

    private int readyForQueryOwed;
    private boolean extendedBatchOpen;

    /** Call for every message forwarded to the backend, with its tag. */
    void onClientMessage(byte tag) {
        switch (tag) {
            case Tags.Frontend.QUERY, Tags.Frontend.FUNCTION_CALL -> readyForQueryOwed++;
            case Tags.Frontend.SYNC -> {
                readyForQueryOwed++;
                extendedBatchOpen = false;
            }
            case Tags.Frontend.PARSE, Tags.Frontend.BIND, Tags.Frontend.EXECUTE, Tags.Frontend.DESCRIBE,
                 Tags.Frontend.CLOSE, Tags.Frontend.FLUSH -> extendedBatchOpen = true;
            default -> {
                // CopyData/CopyDone/CopyFail belong to a request already counted.
            }
        }
    }

    void onReadyForQuery() {
        if (readyForQueryOwed > 0) {
            readyForQueryOwed--;
        }
    }

    /** Nothing in flight: every request has had its ReadyForQuery and no extended batch is open. */
    boolean isQuiet() {
        return readyForQueryOwed == 0 && !extendedBatchOpen;
    }

    void reset() {
        readyForQueryOwed = 0;
        extendedBatchOpen = false;
    }
}
