package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.pgwarden.protocol.BackendMessages;
import io.pgwarden.protocol.ErrorResponse;
import java.util.concurrent.TimeUnit;

/**
 * The last bytes a client gets from pgwarden, its FATAL, and the close after it. A client that sat idle (its idle
 * or idle-in-transaction timeout, KILL_CLIENT, a session that cannot be restored) gets a ReadyForQuery after the
 * FATAL, and a socket that still reads for a while.
 *
 * <p>An idle libpq client reads the FATAL only as the answer to its next statement, and libpq 14 and later then
 * keeps reading for that statement's ReadyForQuery: the end of the connection comes first, and its "server closed
 * the connection unexpectedly" replaces the FATAL as the statement's result, so psycopg2 raises a bare
 * OperationalError where it should raise IdleInTransactionSessionTimeout (directly against PostgreSQL it does the
 * same). With a ReadyForQuery behind it, the FATAL is the whole answer and keeps its SQLSTATE; a client that reads
 * while idle skips the ReadyForQuery (libpq notes "arrived from server while idle") and sees the end at once,
 * since the output is shut right away. But a client that stops reading at that ReadyForQuery (pgjdbc) has not seen
 * the end, and its Terminate would hit a closed socket ("Broken pipe" from close()): so the input stays open,
 * and what the client writes is read and dropped, until it has written, gone, or {@link #LINGER_SECONDS} passed.
 */
final class ClientGoodbye {

    /** How long a socket whose output is shut still reads what an idle client writes next. */
    static final long LINGER_SECONDS = 60;

    private ClientGoodbye() {
    }

    static void send(Channel channel, ErrorResponse fatal, ClientState state) {
        ByteBuf out = channel.alloc().buffer();
        fatal.encode(out);
        boolean idle = state == ClientState.IDLE || state == ClientState.IN_TRANSACTION
                || state == ClientState.FAILED_TRANSACTION;
        if (idle) {
            // Whatever transaction there was is rolled back with the session.
            BackendMessages.readyForQuery(out, TransactionStatus.IDLE.wireByte());
        }
        if (!idle || !(channel instanceof DuplexChannel duplex)) {
            channel.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        channel.writeAndFlush(out).addListener(written -> {
            if (!written.isSuccess() || !channel.isActive()) {
                channel.close();
                return;
            }
            channel.pipeline().addFirst(new Discard());
            channel.config().setAutoRead(true);
            duplex.shutdownOutput().addListener(shut -> {
                if (!shut.isSuccess()) {
                    channel.close();
                }
            });
            channel.eventLoop().schedule(() -> channel.close(), LINGER_SECONDS, TimeUnit.SECONDS);
        });
    }

    /** What the client writes now is dropped, and once read (so nothing is left unread) the socket closes. */
    private static final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }
}
