package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Tags;

/**
 * Whether the backend of a link is in COPY FROM STDIN, where it reads client messages in a way of its own: it
 * ignores Flush and Sync without an answer, and ends the connection on any type but CopyData, CopyDone and CopyFail
 * (after an ERROR, because it has read the type but not the body and lost the framing). Relayed, the first would
 * leave a ReadyForQuery owed that never comes; the second would cost a backend other clients share. So pgwarden
 * drops the first, and answers the second itself as PostgreSQL would, ending that client, while the backend is
 * taken out of COPY with a CopyFail and returns to the pool.
 */
final class CopyIn {

    /** What to do with a client message. */
    enum Verdict {
        RELAY,
        /** Flush or Sync: PostgreSQL reads past them during COPY. */
        IGNORE,
        /** PostgreSQL would end the connection on it. */
        UNEXPECTED
    }

    /** What to do with a backend message. */
    enum Seen {
        RELAY,
        /** The COPY begins: Syncs already on their way will be ignored. */
        STARTED,
        /** The backend's answer to pgwarden's CopyFail: the client gets PostgreSQL's own error instead. */
        REPLACE_ERROR,
        /** The ReadyForQuery ending an aborted COPY: PostgreSQL would have ended the connection before it. */
        DROP
    }

    private enum State { NONE, ACTIVE, ABORTING }

    private State state = State.NONE;
    private byte unexpectedType;

    Verdict onClientMessage(byte tag) {
        if (state != State.ACTIVE) {
            return Verdict.RELAY;
        }
        switch (tag) {
            case Tags.Frontend.COPY_DATA -> {
                return Verdict.RELAY;
            }
            case Tags.Frontend.COPY_DONE, Tags.Frontend.COPY_FAIL -> {
                state = State.NONE;
                return Verdict.RELAY;
            }
            case Tags.Frontend.FLUSH, Tags.Frontend.SYNC -> {
                return Verdict.IGNORE;
            }
            default -> {
                return Verdict.UNEXPECTED;
            }
        }
    }

    /** After an {@link Verdict#UNEXPECTED} message of type {@code tag}, once the CopyFail is on its way. */
    void aborting(byte tag) {
        state = State.ABORTING;
        unexpectedType = tag;
    }

    Seen onBackendMessage(byte tag) {
        switch (state) {
            case NONE -> {
                // CopyBoth outside replication (those connections never reach a link) reads client data the same way.
                if (tag == Tags.Backend.COPY_IN_RESPONSE || tag == Tags.Backend.COPY_BOTH_RESPONSE) {
                    state = State.ACTIVE;
                    return Seen.STARTED;
                }
            }
            case ACTIVE -> {
                // The backend ended the COPY itself (bad data, a cancel): what the client sends next is read normally.
                if (tag == Tags.Backend.ERROR_RESPONSE || tag == Tags.Backend.COMMAND_COMPLETE
                        || tag == Tags.Backend.READY_FOR_QUERY) {
                    state = State.NONE;
                }
            }
            case ABORTING -> {
                if (tag == Tags.Backend.ERROR_RESPONSE) {
                    return Seen.REPLACE_ERROR;
                }
                if (tag == Tags.Backend.READY_FOR_QUERY) {
                    state = State.NONE;
                    return Seen.DROP;
                }
            }
        }
        return Seen.RELAY;
    }

    /** PostgreSQL's error for the message that ended the COPY. */
    ByteBuf error(ByteBufAllocator alloc) {
        ByteBuf out = alloc.buffer();
        ErrorResponse.error("08P01", String.format("unexpected message type 0x%02X during COPY from stdin",
                unexpectedType & 0xff)).encode(out);
        return out;
    }

    void reset() {
        state = State.NONE;
    }
}
