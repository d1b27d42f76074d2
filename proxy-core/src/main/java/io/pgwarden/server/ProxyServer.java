package io.pgwarden.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.UnixChannel;
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
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
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
    private HandoverOffer handover;
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
        ServerBootstrap bootstrap = clientBootstrap().channel(transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 4096);
        if (reusePort) {
            bootstrap.option(UnixChannelOption.SO_REUSEPORT, true);
        }
        serverChannel = bootstrap.bind(host, port).sync().channel();
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /**
     * Accepts on a listening socket handed over by the process that ran before (listen.handover_socket) instead of
     * binding one: it is already bound and listening, with its queue of connections not yet accepted.
     *
     * @throws IllegalStateException when that socket does not listen where this configuration says, so that
     *     taking it would serve the wrong address
     */
    public InetSocketAddress adopt(FileDescriptor listener, String host, int port) throws InterruptedException {
        EpollServerSocketChannel channel = new EpollServerSocketChannel(listener.intValue());
        InetSocketAddress at = channel.localAddress();
        if (at == null || (port != 0 && at.getPort() != port) || !sameHost(at, host)) {
            channel.unsafe().closeForcibly();
            throw new IllegalStateException("the socket handed over listens on " + at + ", but listen.host and"
                    + " listen.port say " + host + ":" + port);
        }
        serverChannel = clientBootstrap()
                .channelFactory((io.netty.channel.ChannelFactory<EpollServerSocketChannel>) () -> channel).register().sync().channel();
        return at;
    }

    private static boolean sameHost(InetSocketAddress at, String host) {
        try {
            return java.net.InetAddress.getByName(host).equals(at.getAddress());
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /**
     * Offers this process's listening socket to the next process at {@code path} until {@link #stopAccepting};
     * {@code onTaken} runs when one has taken it.
     */
    public void offerHandover(Path path, Runnable onTaken) throws IOException, InterruptedException {
        handover = HandoverOffer.open(loops, path, this::listener, onTaken);
    }

    /** The listening socket's descriptor while it accepts, for a handover; null once closed. */
    private FileDescriptor listener() {
        Channel channel = serverChannel;
        return channel instanceof UnixChannel unix && channel.isOpen() ? unix.fd() : null;
    }

    private ServerBootstrap clientBootstrap() {
        return new ServerBootstrap()
                .group(loops)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.ALLOCATOR, transport.allocator())
                .childOption(ChannelOption.ALLOCATOR, transport.allocator())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        clients.add(transport.guarded(ch));
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
                        clients.add(transport.guarded(ch));
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
        if (handover != null) {
            handover.close();
        }
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
