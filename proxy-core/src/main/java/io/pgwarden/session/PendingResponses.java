package io.pgwarden.session;

import io.pgwarden.protocol.Tags;
import java.util.ArrayDeque;

/**
 * What the backend still owes for everything written to it on one link, in order: one entry per request
 * message. Each entry says where its responses go: to the client, nowhere (requests pgwarden injected),
 * or nowhere because pgwarden answers the client itself (a Close of a shared statement, a request it answers
 * from the responses to another). Matching responses to requests this way is what keeps pipelining and statement emulation in
 * the exact order the server would have used.
 */
final class PendingResponses {

    /** Request messages that get responses, named after the protocol. */
    enum Kind { PARSE, BIND, DESCRIBE, EXECUTE, CLOSE, SYNC, QUERY, FUNCTION_CALL }

    enum Route {
        /** Responses are relayed to the client. */
        CLIENT,
        /** pgwarden sent the request; its responses are swallowed (errors may still be shown to the client). */
        HIDDEN,
        /** Never sent to the server; when it reaches the head, pgwarden writes {@link Pending#syntheticTag()}. */
        SYNTHETIC,
        /**
         * pgwarden sent it in place of a client request it answers itself from the responses, through the
         * {@link Pending#observer()}: owed to the client like the request it stands for, but nothing is relayed.
         */
        SUBSTITUTED
    }

    /** Receives the messages of a hidden request before they are dropped. */
    interface Observer {
        void onMessage(io.netty.buffer.ByteBuf message);
    }

    /**
     * One request awaiting responses.
     * @param onError run if the server answers this request with an ErrorResponse (may be null)
     */
    record Pending(Kind kind, Route route, byte syntheticTag, boolean forwardErrors, Observer observer,
                   Runnable onError) {
    }

    /** What to do with one backend message. */
    enum Action { FORWARD, DROP }

    /**
     * Shared and never written: reading an empty deque changes nothing, so every link starts with it and allocates
     * its own at its first request (idle clients are many, and heap per client counts).
     */
    private static final ArrayDeque<Pending> NOTHING = new ArrayDeque<>(0);
    /** Starts small: it grows once to a client's deepest pipeline and stays there. */
    private ArrayDeque<Pending> queue = NOTHING;
    private boolean extendedBatchOpen;
    /** How many queued entries are pgwarden's own: the rest are owed to the client. */
    private int hidden;

    static Kind kindOf(byte tag) {
        return switch (tag) {
            case Tags.Frontend.PARSE -> Kind.PARSE;
            case Tags.Frontend.BIND -> Kind.BIND;
            case Tags.Frontend.DESCRIBE -> Kind.DESCRIBE;
            case Tags.Frontend.EXECUTE -> Kind.EXECUTE;
            case Tags.Frontend.CLOSE -> Kind.CLOSE;
            case Tags.Frontend.SYNC -> Kind.SYNC;
            case Tags.Frontend.QUERY -> Kind.QUERY;
            case Tags.Frontend.FUNCTION_CALL -> Kind.FUNCTION_CALL;
            default -> null;
        };
    }

    /** The entry of a plain client request, one per kind: shared, since it carries no per-request state. */
    private static final Pending[] CLIENT_REQUESTS = new Pending[Kind.values().length];

    static {
        for (Kind kind : Kind.values()) {
            CLIENT_REQUESTS[kind.ordinal()] = new Pending(kind, Route.CLIENT, (byte) 0, true, null, null);
        }
    }

    /** Records a client message relayed as is. */
    void clientSent(byte tag) {
        if (tag == Tags.Frontend.FLUSH) {
            extendedBatchOpen = true;
            return;
        }
        Kind kind = kindOf(tag);
        if (kind != null) {
            add(CLIENT_REQUESTS[kind.ordinal()]);
        }
    }

    void add(Pending pending) {
        switch (pending.kind()) {
            case SYNC -> extendedBatchOpen = false;
            case QUERY, FUNCTION_CALL -> { }
            default -> extendedBatchOpen = pending.route() != Route.HIDDEN || extendedBatchOpen;
        }
        if (queue == NOTHING) {
            queue = new ArrayDeque<>(4);
        }
        queue.addLast(pending);
        if (pending.route() == Route.HIDDEN) {
            hidden++;
        }
    }

    void addHidden(Kind kind, boolean forwardErrors, Observer observer) {
        add(new Pending(kind, Route.HIDDEN, (byte) 0, forwardErrors, observer, null));
    }

    void addSynthetic(Kind kind, byte responseTag) {
        add(new Pending(kind, Route.SYNTHETIC, responseTag, false, null, null));
    }

    /**
     * Routes one backend message and retires the requests it completes. Messages PostgreSQL may send at any
     * time (notices, notifications, parameter changes) always reach the client.
     */
    Action onBackendMessage(byte tag) {
        if (tag == Tags.Backend.NOTICE_RESPONSE || tag == Tags.Backend.NOTIFICATION_RESPONSE
                || tag == Tags.Backend.PARAMETER_STATUS) {
            return Action.FORWARD;
        }
        Pending head = queue.peekFirst();
        if (head == null) {
            return Action.FORWARD;
        }
        Action action = head.route() == Route.CLIENT
                || (tag == Tags.Backend.ERROR_RESPONSE && head.forwardErrors()) ? Action.FORWARD : Action.DROP;
        if (tag == Tags.Backend.ERROR_RESPONSE) {
            if (head.onError() != null) {
                head.onError().run();
            }
            onError(head);
        } else if (completes(head.kind(), tag)) {
            pollHead();
        }
        return action;
    }

    /** The head request, whose responses are arriving now; null when nothing is owed. */
    Pending head() {
        return queue.peekFirst();
    }

    /** After an error in an extended batch the server skips everything up to Sync, so those owe nothing. */
    private void onError(Pending head) {
        if (head.kind() == Kind.QUERY || head.kind() == Kind.FUNCTION_CALL || head.kind() == Kind.SYNC) {
            return;
        }
        pollHead();
        while (!queue.isEmpty() && queue.peekFirst().kind() != Kind.SYNC) {
            Pending skipped = pollHead();
            if (skipped.onError() != null) {
                // A skipped Parse created nothing on the server either.
                skipped.onError().run();
            }
        }
    }

    private static boolean completes(Kind kind, byte tag) {
        return switch (kind) {
            case PARSE -> tag == Tags.Backend.PARSE_COMPLETE;
            case BIND -> tag == Tags.Backend.BIND_COMPLETE;
            case CLOSE -> tag == Tags.Backend.CLOSE_COMPLETE;
            case DESCRIBE -> tag == Tags.Backend.ROW_DESCRIPTION || tag == Tags.Backend.NO_DATA;
            case EXECUTE -> tag == Tags.Backend.COMMAND_COMPLETE || tag == Tags.Backend.EMPTY_QUERY_RESPONSE
                    || tag == Tags.Backend.PORTAL_SUSPENDED;
            case SYNC, QUERY, FUNCTION_CALL -> tag == Tags.Backend.READY_FOR_QUERY;
        };
    }

    /**
     * Pops the synthetic entries that have reached the head, returning the response tag of the first one,
     * or 0 when the head is not synthetic. Call until it returns 0 after every routed message and every add.
     */
    byte pollSynthetic() {
        Pending head = queue.peekFirst();
        if (head == null || head.route() != Route.SYNTHETIC) {
            return 0;
        }
        pollHead();
        return head.syntheticTag();
    }

    /** Nothing owed and no extended batch left open without Sync: the backend may be released. */
    boolean isQuiet() {
        return queue.isEmpty() && !extendedBatchOpen;
    }

    /** An extended batch was begun and no Sync has ended it yet. */
    boolean extendedBatchOpen() {
        return extendedBatchOpen;
    }

    /**
     * Everything still owed is pgwarden's own work and ends at a ReadyForQuery the server will send unasked:
     * nothing of the client's is in flight, so the backend can be let finish instead of cancelled.
     */
    boolean owesOnlyOwnWork() {
        Pending last = queue.peekLast();
        return last != null && queue.size() == hidden && !extendedBatchOpen
                && (last.kind() == Kind.QUERY || last.kind() == Kind.SYNC);
    }

    void clear() {
        if (queue != NOTHING) {
            queue.clear();
        }
        hidden = 0;
        extendedBatchOpen = false;
    }

    private Pending pollHead() {
        Pending head = queue.pollFirst();
        if (head != null && head.route() == Route.HIDDEN) {
            hidden--;
        }
        return head;
    }

    /**
     * The backend is gone: writes to {@code out} what the client is still owed, as PostgreSQL would answer a
     * failed request: {@code error} once per batch, ReadyForQuery with {@code status} for each Sync or query.
     * Leaves nothing owed.
     * @return true when the client's extended batch is still open, so the rest of it must be skipped up to Sync
     */
    boolean answerAllWith(io.netty.buffer.ByteBuf out, io.pgwarden.protocol.ErrorResponse error, byte status) {
        boolean errorSentInBatch = false;
        for (Pending p : queue) {
            if (p.route() == Route.HIDDEN) {
                continue;
            }
            switch (p.kind()) {
                case QUERY, FUNCTION_CALL -> {
                    error.encode(out);
                    io.pgwarden.protocol.BackendMessages.readyForQuery(out, status);
                }
                case SYNC -> {
                    if (!errorSentInBatch) {
                        error.encode(out);
                    }
                    io.pgwarden.protocol.BackendMessages.readyForQuery(out, status);
                    errorSentInBatch = false;
                }
                default -> {
                    if (!errorSentInBatch) {
                        error.encode(out);
                        errorSentInBatch = true;
                    }
                }
            }
        }
        boolean batchOpen = extendedBatchOpen;
        if (batchOpen && !errorSentInBatch) {
            // Everything of the open batch was answered before the loss; its Sync still gets the error.
            error.encode(out);
        }
        clear();
        return batchOpen;
    }

    /** Exactly one request is owed to the client, and it is a simple query. */
    boolean owesOneQuery() {
        if (queue.size() - hidden != 1 || extendedBatchOpen) {
            return false;
        }
        for (Pending p : queue) {
            if (p.route() != Route.HIDDEN) {
                return p.kind() == Kind.QUERY;
            }
        }
        return false;
    }

    /** True when nothing was owed to the client itself (pgwarden's own requests aside). */
    boolean clientOwedNothing() {
        // Checked on every client message: a count, not a walk of the queue.
        return queue.size() == hidden && !extendedBatchOpen;
    }
}
