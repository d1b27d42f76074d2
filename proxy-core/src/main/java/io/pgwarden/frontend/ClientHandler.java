package io.pgwarden.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.StartupRequest;
import io.pgwarden.session.ClientSession;
import io.pgwarden.session.ProxyContext;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Thin adapter from the client channel's events to its {@link ClientSession}. */
public final class ClientHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ClientHandler.class);

    private final ProxyContext context;
    private final AtomicLong ids;
    private ClientSession session;

    public ClientHandler(ProxyContext context, AtomicLong ids) {
        this.context = context;
        this.ids = ids;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        context.clientCount().incrementAndGet();
        session = new ClientSession(ids.incrementAndGet(), ctx.channel(), context);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof StartupRequest request) {
            session.onStartupRequest(request);
        } else {
            session.onClientMessage((ByteBuf) msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        session.onClientReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        session.onClientWritabilityChanged(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        context.clientCount().decrementAndGet();
        session.onClientClosed();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException) {
            // A garbage packet costs this one client its connection and nothing else.
            Throwable why = cause.getCause() != null ? cause.getCause() : cause;
            session.onProtocolViolation(ErrorResponse.fatal("08P01", "invalid frontend message: " + why.getMessage()));
            return;
        }
        log.debug("{}: {}", session, cause.toString());
        ctx.close();
    }
}
