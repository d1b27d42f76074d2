package io.pgwarden.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgwarden.log.LogValues;
import io.pgwarden.net.MessageChunk;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.ParameterStatus;
import io.pgwarden.protocol.Tags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/** Thin adapter: hands every backend event to the connection's current listener. */
final class BackendHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(BackendHandler.class);

    private final LossCounters losses;
    private final java.util.function.BiConsumer<String, String> lossEvents;
    private final String poolName;
    private final boolean probe;
    private BackendConnection connection;

    BackendHandler(LossCounters losses, java.util.function.BiConsumer<String, String> lossEvents, String poolName) {
        this(losses, lossEvents, poolName, false);
    }

    BackendHandler(LossCounters losses, java.util.function.BiConsumer<String, String> lossEvents, String poolName,
                   boolean probe) {
        this.losses = losses;
        this.lossEvents = lossEvents;
        this.poolName = poolName;
        this.probe = probe;
    }

    void attach(BackendConnection connection) {
        this.connection = connection;
    }

    /** Whether the connection's listener now takes a large message in chunks ({@link MessageFrameDecoder}). */
    boolean takesChunks() {
        BackendListener listener = connection != null ? connection.listener() : null;
        return listener != null && listener.takesChunks();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof MessageChunk chunk) {
            BackendListener listener = connection.listener();
            if (listener == null) {
                chunk.content().release();
            } else {
                listener.onBackendChunk(connection, chunk);
            }
            return;
        }
        ByteBuf message = (ByteBuf) msg;
        byte tag = Frames.tag(message);
        if (tag == Tags.Backend.ERROR_RESPONSE) {
            noteFatal(message);
        } else if (tag == Tags.Backend.PARAMETER_STATUS && connection.liveRole().watched()) {
            // Here, whoever holds the backend (a client, the health check, a reset): a role change is seen on all paths.
            connection.liveRole().onParameterStatus(connection, ParameterStatus.decode(message));
        }
        BackendListener listener = connection.listener();
        if (listener == null) {
            message.release();
            return;
        }
        listener.onBackendMessage(connection, message);
    }

    /** PostgreSQL says why it ends a session in a FATAL error just before closing; keep that as the reason. */
    private void noteFatal(ByteBuf message) {
        try {
            ErrorResponse error = ErrorResponse.decode(message);
            if ("FATAL".equals(error.severity()) || "PANIC".equals(error.severity())) {
                // PostgreSQL's own reason beats whatever the socket said first.
                connection.markFatal(LossReason.fromFatal(error), error.sqlstate() + " " + error.message(),
                        new ErrorResponse(error.severity(), error.sqlstate(), error.message(), null, null));
            }
        } catch (RuntimeException malformed) {
            // Forwarded as is; the reason stays unknown.
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        BackendListener listener = connection.listener();
        if (listener != null) {
            listener.onBackendReadComplete(connection);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        BackendListener listener = connection.listener();
        if (listener != null) {
            listener.onBackendWritabilityChanged(connection, ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        connection.recordLoss(LossReason.SERVER_SHUTDOWN, "server closed the connection");
        connection.toClosed();
        LossReason reason = connection.lossReason();
        losses.record(reason);
        log.atLevel(probe ? Level.DEBUG : Level.INFO).log(
                "event=server_close server={} pid={} pool={} reason_class={} reason={}", connection.id(),
                connection.processId(), poolName, reason.name().toLowerCase(),
                LogValues.quote(connection.closeReason()));
        if (reason != LossReason.CLOSED_BY_PGWARDEN && reason != LossReason.LIFETIME_EXPIRED
                && reason != LossReason.IDLE_TIMEOUT) {
            lossEvents.accept(poolName, "backend_lost: " + reason.description() + ": " + connection.closeReason());
        }
        BackendListener listener = connection.listener();
        if (listener != null) {
            listener.onBackendClosed(connection, connection.closeReason());
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (io.pgwarden.net.FatalErrorGuard.isFatal(cause)) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        if (cause instanceof java.io.IOException && ctx.channel().isActive() && isOutputShutdown(ctx)) {
            // A write failed and the output side is shut; the input still ends on its own (EOF or reset) and
            // may hold PostgreSQL's last words.
            connection.recordLoss(LossReason.fromSocket(cause), "socket error: " + cause.getMessage());
            return;
        }
        connection.close(LossReason.fromSocket(cause), "socket error: " + cause.getMessage());
    }

    private static boolean isOutputShutdown(ChannelHandlerContext ctx) {
        return ctx.channel() instanceof io.netty.channel.socket.DuplexChannel duplex && duplex.isOutputShutdown();
    }
}
