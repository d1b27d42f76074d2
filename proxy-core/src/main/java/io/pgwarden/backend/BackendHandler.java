package io.pgwarden.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Thin adapter: hands every backend event to the connection's current listener. */
final class BackendHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(BackendHandler.class);

    private BackendConnection connection;

    void attach(BackendConnection connection) {
        this.connection = connection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        BackendListener listener = connection.listener();
        if (listener == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        listener.onBackendMessage(connection, (ByteBuf) msg);
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
        String reason = connection.closeReason() != null ? connection.closeReason() : "server closed the connection";
        connection.close(reason);
        connection.setState(BackendConnection.State.CLOSED);
        BackendListener listener = connection.listener();
        if (listener != null) {
            listener.onBackendClosed(connection, reason);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("{}: {}", connection, cause.toString());
        connection.close("socket error: " + cause.getMessage());
    }
}
