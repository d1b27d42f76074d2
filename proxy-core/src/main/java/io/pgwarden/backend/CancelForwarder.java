package io.pgwarden.backend;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.pgwarden.protocol.CancelRequest;
import io.pgwarden.net.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Sends a CancelRequest to PostgreSQL on a fresh connection, as the protocol requires, with the backend's real key. */
public final class CancelForwarder {

    private static final Logger log = LoggerFactory.getLogger(CancelForwarder.class);
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

    private final Transport transport;

    public CancelForwarder(Transport transport) {
        this.transport = transport;
    }

    public void cancel(EventLoop loop, BackendConnection backend) {
        int pid = backend.processId();
        int secret = backend.secretKey();
        new Bootstrap().group(loop)
                .channel(transport.channelClass())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(backend.serverAddress().getHostString(), backend.serverAddress().getPort())
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        log.warn("event=cancel_failed pid={} reason=\"{}\"", pid, f.cause().getMessage());
                        return;
                    }
                    ByteBuf out = f.channel().alloc().buffer(16);
                    new CancelRequest(pid, secret).encode(out);
                    // PostgreSQL closes the connection itself once it has read the request.
                    f.channel().writeAndFlush(out);
                });
    }
}
