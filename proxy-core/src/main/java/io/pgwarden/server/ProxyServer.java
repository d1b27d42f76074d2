package io.pgwarden.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.pgwarden.frontend.ClientHandler;
import io.pgwarden.frontend.DirectTlsDetector;
import io.pgwarden.frontend.FrontendFrameDecoder;
import io.pgwarden.frontend.FrontendContext;
import io.pgwarden.frontend.LoginThrottle;
import io.pgwarden.frontend.PeerCancelHandler;
import io.pgwarden.frontend.PendingLogins;
import io.pgwarden.net.FatalErrorGuard;
import io.pgwarden.net.Transport;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** The listening socket and the pipeline every client connection gets. */
public final class ProxyServer {

    private static final int PEER_READ_TIMEOUT_SECONDS = 10;

    private final Transport transport;
    private final EventLoopGroup loops;
    private final FrontendContext context;
    private final WriteBufferWaterMark waterMark;
    private final AtomicLong clientIds = new AtomicLong();
    private final PendingLogins pending;
    private final LoginThrottle throttle;
    private Channel serverChannel;
    private Channel peerChannel;
    /**
     * Every client connection still open, closed at stop while the event loops still run: closed by the loops'
     * own shutdown instead, a connection's handlers may never hear of it, and what they buffer (a half-received
     * TLS record) is never released.
     */
    private final ChannelGroup clients = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

    private final FatalErrorGuard fatal;

    public ProxyServer(Transport transport, EventLoopGroup loops, FrontendContext context, WriteBufferWaterMark waterMark,
                       FatalErrorGuard fatal) {
        this.fatal = fatal;
        this.transport = transport;
        this.loops = loops;
        this.context = context;
        this.waterMark = waterMark;
        this.pending = PendingLogins.configuredBy(context);
        this.throttle = LoginThrottle.configuredBy(context);
    }

    public InetSocketAddress bind(String host, int port) throws InterruptedException {
        return bind(host, port, false);
    }

    /**
     * @param reusePort SO_REUSEPORT (listen.reuse_port): another process may bind the same port, and the kernel
     *     spreads new connections over the processes listening on it; only the native transports have it
     */
    public InetSocketAddress bind(String host, int port, boolean reusePort) throws InterruptedException {
        if (reusePort && !transport.nativeTransport()) {
            throw new IllegalStateException("listen.reuse_port needs the io_uring or epoll transport, not "
                    + transport.name());
        }
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(loops)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.ALLOCATOR, transport.allocator())
                .childOption(ChannelOption.ALLOCATOR, transport.allocator())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        clients.add(ch);
                        DirectTlsDetector directTls = DirectTlsDetector.forNewConnection(context);
                        if (directTls != null) {
                            ch.pipeline().addLast("direct-tls", directTls);
                        }
                        FrontendFrameDecoder frames = new FrontendFrameDecoder();
                        ch.pipeline().addLast("frames", frames);
                        ch.pipeline().addLast("client", new ClientHandler(context, clientIds, frames, pending,
                                throttle));
                        ch.pipeline().addLast("fatal", fatal);
                    }
                });
        if (reusePort) {
            bootstrap.option(UnixChannelOption.SO_REUSEPORT, true);
        }
        serverChannel = bootstrap.bind(host, port).sync().channel();
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /**
     * This process's own address in listen.peers, where the other processes sharing the port forward the cancel
     * requests whose key is this one's. Unlike the client port it stays open until {@link #close}: a drain may
     * last long, and the queries it waits for must stay cancellable.
     */
    public InetSocketAddress bindPeerCancels(String host, int port) throws InterruptedException {
        peerChannel = new ServerBootstrap()
                .group(loops)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.ALLOCATOR, transport.allocator())
                .childOption(ChannelOption.ALLOCATOR, transport.allocator())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        clients.add(ch);
                        // A peer sends its 16 bytes at once; a connection that sends nothing is not one.
                        ch.pipeline().addLast("timeout", new ReadTimeoutHandler(PEER_READ_TIMEOUT_SECONDS));
                        ch.pipeline().addLast("frames", new FrontendFrameDecoder());
                        ch.pipeline().addLast("cancel", new PeerCancelHandler(context.proxy()));
                    }
                })
                .bind(host, port).sync().channel();
        return (InetSocketAddress) peerChannel.localAddress();
    }

    /** Closes the listening socket: new connections are refused from now on; open ones go on. Idempotent. */
    public void stopAccepting() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
    }

    public void close() {
        stopAccepting();
        if (peerChannel != null) {
            peerChannel.close().syncUninterruptibly();
        }
        clients.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
