package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.protocol.Frames;
import java.util.ArrayList;
import java.util.List;

/**
 * A transaction's first requests, kept from the moment a Sync is sent ahead of them until the client hears
 * anything: if the backend turns out to have died in a way that proves it never started on them, they are
 * sent again on another backend and the client never knows. PostgreSQL handles messages in order and writes
 * its output in order, so a FATAL that arrives before that Sync's ReadyForQuery is such a proof; so is a write
 * of the Sync that failed, because the socket was already reset. A silent close proves nothing.
 */
final class ReplayWindow {

    /** Bigger requests (COPY, and any message streamed as it arrives) are not kept, and so not replayed. */
    private static final int MAX_REPLAYABLE_BYTES = 1 << 20;

    private List<ByteBuf> copies;
    private int bytes;
    /** The Sync sent ahead of this link's first request has not been answered yet. */
    private boolean syncPending;
    /** Written from the backend's event loop when the write carrying that Sync failed. */
    private volatile boolean syncUndelivered;
    /**
     * This link's Sync was answered: a backend lost after that was alive when the request reached it, so the
     * loss was a kill of a running request (what a script killing "idle" sessions from a stale snapshot does).
     */
    private boolean syncAnswered;

    /** A new link: nothing is known about its backend yet. */
    void onLink() {
        syncAnswered = false;
    }

    /** The Sync goes out now: what the client sends from here on is kept. */
    void open() {
        close();
        copies = new ArrayList<>();
        bytes = 0;
        syncPending = true;
        syncUndelivered = false;
    }

    boolean isOpen() {
        return copies != null;
    }

    void keep(ByteBuf message) {
        bytes += message.readableBytes();
        // A streamed message is not kept whole, so nothing from it on can be sent again.
        if (bytes > MAX_REPLAYABLE_BYTES || Frames.isPartial(message)) {
            close();
            return;
        }
        copies.add(message.retainedDuplicate());
    }

    /** The client has heard something, or the request is too big: no replay from here on. */
    void close() {
        if (copies != null) {
            copies.forEach(ByteBuf::release);
            copies = null;
        }
    }

    void onSyncAnswered() {
        syncPending = false;
        syncAnswered = true;
    }

    void onSyncUndelivered() {
        syncUndelivered = true;
    }

    boolean syncAnswered() {
        return syncAnswered;
    }

    /** Whether {@code dead} provably never started on the kept requests. */
    boolean nothingRanOn(BackendConnection dead) {
        return copies != null && syncPending && (dead.announcedFatal() || syncUndelivered);
    }

    /** The kept requests, in order; the caller owns them and the window is closed. */
    List<ByteBuf> take() {
        List<ByteBuf> taken = copies;
        copies = null;
        return taken;
    }
}
