package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.protocol.BackendMessages;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import java.util.ArrayDeque;
import java.util.List;

/**
 * What a client sent while it had no backend, in order, and what is owed to it when no backend comes: each
 * request answered with the error as PostgreSQL would answer a failed request, the rest of an extended batch
 * skipped up to its Sync.
 */
final class WaitingQueue {

    /**
     * Reading from the client goes on while it waits (pausing costs two epoll_ctl calls per wait) until this many
     * messages, or one bigger than the byte bound, are queued: at most about 136 KiB.
     */
    private static final int MAX_MESSAGES = 16;
    private static final int MAX_MESSAGE_BYTES = 8_192;

    /** Shared and never written, as in {@link PendingResponses}: a client allocates its own at its first request. */
    private static final ArrayDeque<ByteBuf> NOTHING = new ArrayDeque<>(0);
    // Small to start: most clients queue a message or two, and idle clients are many (heap per client counts).
    private ArrayDeque<ByteBuf> messages = NOTHING;
    /** After a request failed without reaching a backend, the rest of its extended batch is skipped up to Sync. */
    private boolean discardUntilSync;

    /** Takes ownership of {@code message}; true when the queue is now too full to read on. */
    boolean add(ByteBuf message) {
        own().add(message);
        return messages.size() > MAX_MESSAGES || message.readableBytes() > MAX_MESSAGE_BYTES;
    }

    /** Puts requests back at the front, in order (a replay). */
    void addFirst(List<ByteBuf> requests) {
        for (int i = requests.size() - 1; i >= 0; i--) {
            own().addFirst(requests.get(i));
        }
    }

    /** Whether {@code message} itself (not an equal one) is queued. */
    boolean contains(ByteBuf message) {
        for (ByteBuf queued : messages) {
            if (queued == message) {
                return true;
            }
        }
        return false;
    }

    boolean isEmpty() {
        return messages.isEmpty();
    }

    ByteBuf poll() {
        return messages.poll();
    }

    boolean isDiscarding() {
        return discardUntilSync;
    }

    void discardUntilSync(boolean discard) {
        discardUntilSync = discard;
    }

    /** Skips one message of a failed batch; true at its Sync, which the caller answers with ReadyForQuery. */
    boolean skip(ByteBuf message, byte tag) {
        message.release();
        if (tag != Tags.Frontend.SYNC) {
            return false;
        }
        discardUntilSync = false;
        return true;
    }

    /** Answers every queued request with {@code error}, without a backend, as PostgreSQL would answer. */
    void answerAll(ByteBuf out, ErrorResponse error, byte status) {
        boolean errorSentInBatch = false;
        ByteBuf message;
        while ((message = messages.poll()) != null) {
            byte tag = Frames.tag(message);
            message.release();
            if (tag == Tags.Frontend.QUERY || tag == Tags.Frontend.FUNCTION_CALL) {
                error.encode(out);
                BackendMessages.readyForQuery(out, status);
            } else if (tag == Tags.Frontend.SYNC) {
                if (!errorSentInBatch) {
                    error.encode(out);
                }
                BackendMessages.readyForQuery(out, status);
                errorSentInBatch = false;
            } else if (!errorSentInBatch) {
                error.encode(out);
                errorSentInBatch = true;
            }
        }
        discardUntilSync = errorSentInBatch;
    }

    void releaseAll() {
        ByteBuf message;
        while ((message = messages.poll()) != null) {
            message.release();
        }
    }

    private ArrayDeque<ByteBuf> own() {
        if (messages == NOTHING) {
            messages = new ArrayDeque<>(4);
        }
        return messages;
    }
}
