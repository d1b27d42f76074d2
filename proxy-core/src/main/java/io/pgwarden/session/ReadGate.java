package io.pgwarden.session;

import io.netty.channel.Channel;

/**
 * The one switch for reading from the client, paused for as long as any reason holds: reads resume only when
 * the last reason is gone, so lifting one pause can never undo another.
 */
final class ReadGate {

    enum Reason {
        /** The client pipelines while it waits for a backend: queueing must stay bounded. */
        QUEUE_FULL,
        /** The backend's socket is full: reading more from the client would only buffer it here. */
        BACKEND_BACKLOG,
        /** A message was refused: nothing after it is read, as PostgreSQL reads nothing after its FATAL. */
        REFUSED,
        /** A read-only error waits for the server's role to be confirmed ({@link ReadOnlyReplay}). */
        VERDICT
    }

    private final Channel channel;
    private int reasons;

    ReadGate(Channel channel) {
        this.channel = channel;
    }

    void pause(Reason reason) {
        if (reasons == 0) {
            channel.config().setAutoRead(false);
        }
        reasons |= 1 << reason.ordinal();
    }

    void resume(Reason reason) {
        int before = reasons;
        reasons &= ~(1 << reason.ordinal());
        if (before != 0 && reasons == 0) {
            channel.config().setAutoRead(true);
        }
    }
}
