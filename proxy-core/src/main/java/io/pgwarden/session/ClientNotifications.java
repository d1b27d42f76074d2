package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.session.notify.NotificationHub;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The notifications the pool's {@link NotificationHub} hands one client, written where PostgreSQL would deliver
 * them: at once while the client is idle outside a transaction, otherwise right after its next ReadyForQuery
 * that ends a transaction, never inside another response. Confined to the client's event loop.
 *
 * <p>A client that does not read them (or stays in a transaction) gets at most {@link #MAX_QUEUED_BYTES} kept for
 * it; what arrives beyond that is dropped, and the client is told with a WARNING before the next ones it gets.
 * Closing it instead would end the work of a client that simply listens to a busy channel.
 */
final class ClientNotifications implements NotificationHub.Subscriber {

    private static final Logger log = LoggerFactory.getLogger(ClientNotifications.class);
    static final int MAX_QUEUED_BYTES = 1 << 20;

    private final ClientSession s;
    private final ArrayDeque<ByteBuf> queued = new ArrayDeque<>(4);
    private int queuedBytes;
    private long dropped;
    private boolean closed;

    ClientNotifications(ClientSession session) {
        this.s = session;
    }

    @Override
    public EventLoop eventLoop() {
        return s.eventLoop();
    }

    @Override
    public void onNotification(ByteBuf notification) {
        if (closed) {
            notification.release();
            return;
        }
        int size = notification.readableBytes();
        if (queuedBytes + size > MAX_QUEUED_BYTES) {
            if (dropped++ == 0) {
                log.warn("event=notifications_dropped client={} queued_bytes={}", s.id(), queuedBytes);
            }
            notification.release();
            return;
        }
        queued.add(notification);
        queuedBytes += size;
        deliverIfIdle();
    }

    /** Writes what is kept if the client is now between transactions, with nothing owed to it, and reading. */
    void deliverIfIdle() {
        if (closed || queued.isEmpty() && dropped == 0 || s.state() != ClientState.IDLE) {
            return;
        }
        Channel channel = s.channel();
        if (!channel.isWritable()) {
            return;
        }
        if (dropped > 0) {
            ByteBuf warning = channel.alloc().buffer();
            new ErrorResponse("WARNING", "01000", "pgwarden: " + dropped + " notifications for this connection "
                    + "were dropped because it did not read them in time", null, null).encodeAsNotice(warning);
            channel.write(warning, channel.voidPromise());
            dropped = 0;
        }
        ByteBuf next;
        while ((next = queued.poll()) != null) {
            channel.write(next, channel.voidPromise());
        }
        queuedBytes = 0;
        channel.flush();
    }

    void close() {
        closed = true;
        ByteBuf next;
        while ((next = queued.poll()) != null) {
            next.release();
        }
        queuedBytes = 0;
    }
}
