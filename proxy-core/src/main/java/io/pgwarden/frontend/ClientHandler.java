package io.pgwarden.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.pgwarden.admin.AdminConnection;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.StartupRequest;
import io.pgwarden.protocol.Tags;
import io.pgwarden.replication.ReplicationRelay;
import io.pgwarden.session.ClientCloseReason;
import io.pgwarden.session.ClientSession;
import io.pgwarden.session.ClientState;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes a client channel's events: to its {@link Login} until it is logged in, then to its {@link ClientSession},
 * or, for the virtual admin database, to its {@link AdminConnection}, or, for a replication connection, to its
 * {@link ReplicationRelay}.
 */
public final class ClientHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ClientHandler.class);

    private final FrontendContext context;
    private final AtomicLong ids;
    private final FrontendFrameDecoder decoder;
    private ClientSession session;
    /** Until the client is logged in: its nonces, startup packet and user are of no use afterwards. */
    private Login login;
    private AdminConnection admin;
    /** A replication connection's relay, which carries all its traffic once the client is authenticated. */
    private ReplicationRelay replication;

    public ClientHandler(FrontendContext context, AtomicLong ids, FrontendFrameDecoder decoder) {
        this.context = context;
        this.ids = ids;
        this.decoder = decoder;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        context.clientCount().incrementAndGet();
        session = new ClientSession(ids.incrementAndGet(), ctx.channel(), context.proxy());
        login = new Login(session, ctx.channel(), context, decoder);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg == FrontendFrameDecoder.TERMINATE_BEFORE_STARTUP) {
            // Not an error to the client, who is done: it neither expects nor can parse an answer.
            log.debug("event=client_close client={} addr={} reason=\"{}\"", session.id(), ctx.channel().remoteAddress(),
                    msg);
            session.close(ClientCloseReason.TERMINATED);
            return;
        }
        if (msg instanceof StartupRequest request) {
            // Only the startup phase yields these (the decoder frames regular messages after it), and holds no buffer.
            if (login != null) {
                login.onStartupRequest(request);
            }
            return;
        }
        ByteBuf message = (ByteBuf) msg;
        if (session.state() == ClientState.AUTHENTICATING && login != null) {
            login.onMessage(message);
            if (login.replication() != null) {
                replication = login.replication();
                login = null;
            } else if (session.state() != ClientState.AUTHENTICATING) {
                admin = login.admin();
                login = null;
            }
        } else if (replication != null) {
            replication.onClientMessage(message);
        } else if (admin != null && session.state() != ClientState.CLOSED) {
            if (Frames.tag(message) == Tags.Frontend.TERMINATE) {
                message.release();
                session.close(ClientCloseReason.TERMINATED);
            } else {
                ctx.writeAndFlush(admin.answer(ctx.alloc(), message, Frames.tag(message)), ctx.voidPromise());
            }
        } else {
            session.onClientMessage(message);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (replication != null) {
            replication.onClientReadComplete();
            return;
        }
        session.onClientReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (replication != null) {
            replication.onClientWritabilityChanged(ctx.channel().isWritable());
        } else {
            session.onClientWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        context.clientCount().decrementAndGet();
        session.onClientClosed();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (io.pgwarden.net.FatalErrorGuard.isFatal(cause)) {
            ctx.fireExceptionCaught(cause);
            return;
        }
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
