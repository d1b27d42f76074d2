package io.pgwarden.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.pgwarden.admin.AdminConnection;
import io.pgwarden.log.LogValues;
import io.pgwarden.net.MessageChunk;
import io.pgwarden.net.MessageHead;
import io.pgwarden.net.WriteCoalescer;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.FrontendMessageCheck;
import io.pgwarden.protocol.StartupMessage;
import io.pgwarden.protocol.StartupRequest;
import io.pgwarden.protocol.Tags;
import io.pgwarden.replication.ReplicationRelay;
import io.pgwarden.session.ClientCloseReason;
import io.pgwarden.session.ClientSession;
import io.pgwarden.session.ClientState;
import java.util.concurrent.TimeUnit;
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
    static final String COALESCER = "coalesce";

    private final FrontendContext context;
    private final AtomicLong ids;
    private final FrontendFrameDecoder decoder;
    private final PendingLogins pending;
    private final LoginThrottle throttle;
    /** The StartupMessage was put to {@link #throttle} (once: a held one comes back through channelRead). */
    private boolean throttleAsked;
    /** A held StartupMessage is waiting out its delay; the client, waiting for an answer, sends nothing more. */
    private boolean holding;
    /** Counted in {@link #pending} from admission until it logs in or closes, whichever comes first. */
    private boolean pendingCounted;
    private ClientSession session;
    /** Until the client is logged in: its nonces, startup packet and user are of no use afterwards. */
    private Login login;
    private AdminConnection admin;
    /** A replication connection's relay, which carries all its traffic once the client is authenticated. */
    private ReplicationRelay replication;

    /** Without a cap on connections still logging in (the in-process harness). */
    public ClientHandler(FrontendContext context, AtomicLong ids, FrontendFrameDecoder decoder) {
        this(context, ids, decoder, new PendingLogins(() -> Integer.MAX_VALUE, () -> Integer.MAX_VALUE),
                LoginThrottle.configuredBy(context));
    }

    public ClientHandler(FrontendContext context, AtomicLong ids, FrontendFrameDecoder decoder,
                         PendingLogins pending, LoginThrottle throttle) {
        this.context = context;
        this.ids = ids;
        this.decoder = decoder;
        this.pending = pending;
        this.throttle = throttle;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        context.clientCount().incrementAndGet();
        session = new ClientSession(ids.incrementAndGet(), ctx.channel(), context.proxy());
        String over = pending.tryAdmit(ctx.channel().remoteAddress());
        if (over != null) {
            // Refused before its startup packet is read, as PostgreSQL's postmaster answers a connection it cannot
            // serve: waiting for the packet is what a flood of silent sockets wants. libpq and pgjdbc read this
            // ErrorResponse whether they sent a StartupMessage or an SSLRequest first.
            ctx.channel().config().setAutoRead(false);
            session.fatal(ErrorResponse.fatal("53300", "sorry, too many clients already logging in ("
                    + over + " reached)"), ClientCloseReason.LOGIN_REFUSED);
            ctx.fireChannelActive();
            return;
        }
        pendingCounted = true;
        login = new Login(session, ctx.channel(), context, decoder, throttle);
        ctx.fireChannelActive();
    }

    /** Its password is proven (or the login ended): the client no longer holds a slot meant for strangers. */
    private void leavePending(ChannelHandlerContext ctx) {
        if (pendingCounted) {
            pendingCounted = false;
            pending.leave(ctx.channel().remoteAddress());
        }
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
            if (login != null && !held(ctx, request)) {
                login.onStartupRequest(request);
                afterLoginStep(ctx);
            }
            return;
        }
        if (msg instanceof MessageChunk chunk) {
            // The decoder streams only for a logged-in client session, never during login, admin or replication.
            if (session.state() == ClientState.CLOSED || session.isRefused()) {
                chunk.content().release();
            } else {
                session.onClientChunk(chunk);
            }
            return;
        }
        if (msg instanceof MessageHead head) {
            if (!refused(head.message())) {
                session.onClientMessageHead(head.message());
            }
            return;
        }
        ByteBuf message = (ByteBuf) msg;
        if (session.state() == ClientState.AUTHENTICATING && login != null) {
            login.onMessage(message);
            afterLoginStep(ctx);
        } else if (refused(message)) {
            return;
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

    /** Once the login has ended (a certificate login ends with the StartupMessage), this handler routes on. */
    private void afterLoginStep(ChannelHandlerContext ctx) {
        if (login.replication() != null) {
            replication = login.replication();
            login = null;
            leavePending(ctx);
        } else if (session.state() != ClientState.STARTUP && session.state() != ClientState.AUTHENTICATING) {
            admin = login.admin();
            login = null;
            leavePending(ctx);
            if (admin == null && session.state() != ClientState.CLOSED) {
                // From here on the backend's answers are relayed; ahead of this handler, so that whatever writes
                // to the client, from the channel or from here, passes through it in order.
                ctx.pipeline().addBefore(ctx.name(), COALESCER, new WriteCoalescer());
            }
        }
    }

    /**
     * Holds a StartupMessage from an address that failed too many logins for the throttle's delay, on this
     * channel's event loop, then hands it on as if it had just come: the whole login waits, whatever its outcome.
     */
    private boolean held(ChannelHandlerContext ctx, StartupRequest request) {
        if (holding) {
            return true;
        }
        if (throttleAsked || !(request instanceof StartupMessage)) {
            return false;
        }
        throttleAsked = true;
        long delay = throttle.delayNanos(ctx.channel().remoteAddress());
        if (delay == 0) {
            return false;
        }
        holding = true;
        ctx.executor().schedule(() -> {
            holding = false;
            if (login != null && session.state() != ClientState.CLOSED) {
                channelRead(ctx, request);
            }
        }, delay, TimeUnit.NANOSECONDS);
        return true;
    }

    /**
     * After authentication, a message of a type PostgreSQL does not take, or a Parse, Bind, Describe or Close it
     * could not read, ends this client here: forwarded, it would end a backend other clients share, and nothing
     * behind this point reads such a message safely. What the client sent before it is still answered.
     */
    private boolean refused(ByteBuf message) {
        if (session.state() == ClientState.CLOSED) {
            message.release();
            return true;
        }
        // Ahead of the checks below: during COPY, PostgreSQL looks at nothing but a message's type.
        if (session.intercepts(message)) {
            return true;
        }
        ErrorResponse problem = session.state() == ClientState.STARTUP ? null : FrontendMessageCheck.problem(message);
        if (problem == null) {
            return false;
        }
        message.release();
        session.refuse(problem);
        return true;
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
        leavePending(ctx);
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
            ErrorResponse error = ErrorResponse.fatal("08P01", "invalid frontend message: " + why.getMessage());
            if (session.state() == ClientState.STARTUP) {
                context.preLoginErrors().report(session.id(), ctx.channel().remoteAddress(), error);
            }
            session.onProtocolViolation(error);
            return;
        }
        if (cause instanceof java.io.IOException) {
            // The client's socket failed (reset, broken pipe): the client's doing, nothing for an operator.
            log.debug("{}: {}", session, cause.toString());
        } else {
            // Anything else is a fault in pgwarden that cost this client its connection: show it.
            log.warn("event=client_error client={} reason={}", session, LogValues.quote(cause.toString()), cause);
        }
        ctx.close();
    }
}
