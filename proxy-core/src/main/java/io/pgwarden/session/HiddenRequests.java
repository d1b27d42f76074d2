package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPromise;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.log.LogValues;
import io.pgwarden.protocol.ExtendedQueryMessages;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.FrontendMessages;
import io.pgwarden.protocol.Tags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The requests pgwarden writes to a link's backend on its own account (settings, re-prepared statements, the Sync
 * that opens the replay window): each is entered in the link's {@link PendingResponses} so that its answers are
 * routed away from the client, and goes out with the read batch's flush.
 */
final class HiddenRequests {

    private static final Logger log = LoggerFactory.getLogger(HiddenRequests.class);

    private final BackendLink link;
    private final ReplayWindow replay;

    HiddenRequests(BackendLink link, ReplayWindow replay) {
        this.link = link;
        this.replay = replay;
    }

    /** A simple query of pgwarden's own, ahead of anything the client sends next; its answers are dropped. */
    void query(String sql, PendingResponses.Observer observer, Runnable onError) {
        BackendConnection b = link.backend();
        ByteBuf out = b.channel().alloc().buffer();
        FrontendMessages.query(out, sql);
        b.write(out);
        link.pending().add(new PendingResponses.Pending(PendingResponses.Kind.QUERY, PendingResponses.Route.HIDDEN,
                (byte) 0, false, observer, onError));
        link.backendWritten();
    }

    /** Settings sent on a client's behalf: if they fail, the backend's settings are no longer known. */
    void settings(String sql, PendingResponses.Observer observer) {
        BackendConnection b = link.backend();
        query(sql, observer, () -> {
            log.warn("event=hidden_statement_failed server={} statement={}", b.id(), LogValues.quote(sql));
            b.loseSettings();
        });
    }

    void parse(String name, byte[] parseBody) {
        BackendConnection b = link.backend();
        ByteBuf parse = b.channel().alloc().buffer();
        ExtendedQueryMessages.writeParse(parse, name, parseBody);
        b.write(parse);
        link.pending().addHidden(PendingResponses.Kind.PARSE, false, null);
        link.backendWritten();
    }

    void sync(PendingResponses.Observer observer, ChannelPromise written) {
        BackendConnection b = link.backend();
        ByteBuf sync = b.channel().alloc().buffer(5);
        FrontendMessages.sync(sync);
        b.channel().write(sync, written != null ? written : b.channel().voidPromise());
        link.pending().addHidden(PendingResponses.Kind.SYNC, false, observer);
        link.backendWritten();
    }

    /** A Sync sent ahead of the transaction's first request, which opens the {@link ReplayWindow}. */
    void canary() {
        replay.open();
        // It goes out in the link's first flush, ahead of the request: if that write fails, the socket was
        // already reset, so the server never read a byte of this request.
        ChannelPromise written = link.backend().channel().newPromise();
        written.addListener(f -> {
            if (!f.isSuccess()) {
                replay.onSyncUndelivered();
            }
        });
        sync(message -> {
            if (Frames.tag(message) == Tags.Backend.READY_FOR_QUERY) {
                replay.onSyncAnswered();
            }
        }, written);
    }
}
