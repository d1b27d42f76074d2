package io.pgwarden.backend;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgwarden.log.LogValues;
import io.pgwarden.protocol.CancelRequest;
import io.pgwarden.net.Transport;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a CancelRequest to PostgreSQL on a fresh connection, as the protocol requires, with the backend's real key,
 * and says when PostgreSQL has acted on it. PostgreSQL closes a cancel connection only after it has signalled the
 * backend, and libpq and pgjdbc take that close as "delivered": a client's cancel connection may close only then, or
 * its next query can be the one the cancel hits.
 */
public final class CancelForwarder {

    private static final Logger log = LoggerFactory.getLogger(CancelForwarder.class);
    /**
     * Connecting and delivering together: a server that never answers must not hold the client's cancel connection
     * (or the backend it would release) for long; libpq's own cancel waits without a bound, which is no model.
     */
    static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(5);

    private final Transport transport;

    public CancelForwarder(Transport transport) {
        this.transport = transport;
    }

    /**
     * Completes (never fails) once PostgreSQL has closed the cancel connection, or the connection could not be made,
     * or after {@link #DELIVERY_TIMEOUT}; listeners run on {@code loop}.
     */
    public Future<Void> cancel(EventLoop loop, BackendConnection backend) {
        Promise<Void> delivered = loop.newPromise();
        backend.cancelStarted(delivered);
        send(loop, backend.serverAddress().getHostString(), backend.serverAddress().getPort(), backend.processId(),
                backend.secretKey(), "PostgreSQL", delivered);
        return delivered;
    }

    /**
     * Passes a client's CancelRequest on to the pgwarden process whose key it is (listen.peers). That process closes
     * the connection once PostgreSQL has acted, so the completion means the same as for {@link #cancel}.
     */
    public Future<Void> forwardToPeer(EventLoop loop, String host, int port, int processId, int secretKey) {
        Promise<Void> delivered = loop.newPromise();
        send(loop, host, port, processId, secretKey, "peer " + host + ":" + port, delivered);
        return delivered;
    }

    private void send(EventLoop loop, String host, int port, int pid, int secret, String receiver,
                      Promise<Void> delivered) {
        ChannelFuture connect = new Bootstrap().group(loop)
                .channelFactory(transport.outboundChannels())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) DELIVERY_TIMEOUT.toMillis())
                .handler(new ChannelInboundHandlerAdapter())
                .connect(host, port);
        ScheduledFuture<?> deadline = loop.schedule(() -> {
            if (delivered.trySuccess(null)) {
                log.warn("event=cancel_unconfirmed pid={} reason=\"{} did not close the cancel connection "
                        + "within {} ms\"", pid, receiver, DELIVERY_TIMEOUT.toMillis());
                connect.channel().close();
            }
        }, DELIVERY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        delivered.addListener(f -> deadline.cancel(false));
        connect.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                if (delivered.trySuccess(null)) {
                    log.warn("event=cancel_failed pid={} to={} reason={}", pid, LogValues.quote(receiver),
                            LogValues.quote(f.cause().getMessage()));
                }
                return;
            }
            Channel channel = f.channel();
            channel.closeFuture().addListener(closed -> delivered.trySuccess(null));
            ByteBuf out = channel.alloc().buffer(16);
            new CancelRequest(pid, secret).encode(out);
            channel.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        });
    }
}
