package io.pgwarden.net;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.pgwarden.config.ConfigException;
import io.pgwarden.config.ListenTransport;
import io.pgwarden.log.LogValues;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket implementation (listen.transport) for client and backend sockets alike: io_uring, epoll or NIO.
 *
 * @param nativeTransport true for io_uring and epoll, which have SO_REUSEPORT and TCP_USER_TIMEOUT
 * @param outbound        the sockets made through {@link #outboundChannels()}, one set per transport made
 */
public record Transport(String name, IoHandlerFactory ioHandlerFactory,
                        Class<? extends ServerChannel> serverChannelClass,
                        Class<? extends Channel> channelClass, boolean nativeTransport, OpenSockets outbound) {

    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    /** Netty's switch for multishot POLLIN polls, read once when its io_uring classes initialise. */
    static final String MULTISHOT_POLL_PROPERTY = "io.netty.iouring.pollAddMultishotEnabled";

    private static final String MULTISHOT_POLL_WARNING = MULTISHOT_POLL_PROPERTY + " is true: with multishot"
            + " polls a peer's close that arrives during a read can go unnoticed; leave the property unset";

    static {
        // Netty 4.2.18's multishot POLLIN poll is edge-triggered: when a peer's last bytes and its FIN arrive while
        // a read is already under way, that read drains the bytes, reports the socket empty, and the channel then
        // waits for a POLLIN edge that never comes, so the peer's close goes unnoticed until something else reads
        // (a client that vanished mid-message held its backend until query_wait_timeout). A one-shot poll is
        // re-armed at each read and fires at once on a pending EOF. Set before Netty's IoUring class initialises:
        // Transport is what first touches it; an explicit setting is left alone.
        if (System.getProperty(MULTISHOT_POLL_PROPERTY) == null) {
            System.setProperty(MULTISHOT_POLL_PROPERTY, "false");
        }
    }

    /** A transport without the native options (a test's embedded channels). */
    public Transport(String name, IoHandlerFactory ioHandlerFactory, Class<? extends ServerChannel> serverChannelClass,
                     Class<? extends Channel> channelClass) {
        this(name, ioHandlerFactory, serverChannelClass, channelClass, false, new OpenSockets());
    }

    private Transport(String name, IoHandlerFactory ioHandlerFactory, Class<? extends ServerChannel> serverChannelClass,
                      Class<? extends Channel> channelClass, boolean nativeTransport) {
        this(name, ioHandlerFactory, serverChannelClass, channelClass, nativeTransport, new OpenSockets());
    }

    /** For every socket pgwarden opens itself: {@link #outbound} closes them at stop. */
    public ChannelFactory<Channel> outboundChannels() {
        ChannelFactory<Channel> made = outbound.factory(channelClass);
        return () -> guarded(made.newChannel());
    }

    /**
     * Prepares a socket of this transport before its own handlers go in: an accepted one in its initializer, an
     * outbound one as {@link #outboundChannels()} makes it.
     */
    public Channel guarded(Channel channel) {
        if (channel instanceof IoUringSocketChannel) {
            channel.pipeline().addFirst(IoUringCloseGuard.NAME, new IoUringCloseGuard());
        }
        return channel;
    }

    /**
     * What listen.transport asks for; {@code auto} takes the best that loads here and logs why it passed over the
     * better ones.
     *
     * @throws ConfigException when a transport named explicitly cannot load here, with the reason
     */
    public static Transport of(ListenTransport wanted) throws ConfigException {
        return switch (wanted) {
            case AUTO -> auto();
            case IO_URING -> {
                if (!IoUring.isAvailable()) {
                    throw unavailable(wanted, IoUring.unavailabilityCause());
                }
                if (IoUring.isPollAddMultishotEnabled()) {
                    log.warn("event=io_uring_multishot_poll detail={}", LogValues.quote(MULTISHOT_POLL_WARNING));
                }
                yield ioUring();
            }
            case EPOLL -> {
                if (!Epoll.isAvailable()) {
                    throw unavailable(wanted, Epoll.unavailabilityCause());
                }
                yield epoll();
            }
            case NIO -> nio();
        };
    }

    /** What {@code auto} picks. */
    public static Transport best() {
        return auto();
    }

    /** Whether io_uring loads here (Netty's check, after this class has set its poll mode). */
    public static boolean ioUringAvailable() {
        return IoUring.isAvailable();
    }

    /**
     * io_uring where the kernel allows it (the whole test suite passes on it: -Dpgwarden.test.transport=io_uring),
     * else epoll, else NIO.
     */
    private static Transport auto() {
        if (IoUring.isAvailable() && !IoUring.isPollAddMultishotEnabled()) {
            return ioUring();
        }
        // io_uring can be compiled in and still refused at run time (seccomp, kernel.io_uring_disabled).
        log.info("event=transport_fallback skipped=io_uring reason={}", LogValues.quote(IoUring.isAvailable()
                ? MULTISHOT_POLL_WARNING : describe(IoUring.unavailabilityCause())));
        if (Epoll.isAvailable()) {
            return epoll();
        }
        log.info("event=transport_fallback skipped=epoll reason={}",
                LogValues.quote(describe(Epoll.unavailabilityCause())));
        return nio();
    }

    private static Transport ioUring() {
        return new Transport("io_uring", IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                IoUringSocketChannel.class, true);
    }

    private static Transport epoll() {
        return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                EpollSocketChannel.class, true);
    }

    private static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class,
                false);
    }

    private static ConfigException unavailable(ListenTransport wanted, Throwable cause) {
        return new ConfigException("for this machine", List.of("listen.transport: " + wanted.yamlName()
                + " cannot be used here: " + describe(cause) + "; choose auto to take the best one available"));
    }

    private static String describe(Throwable cause) {
        if (cause == null) {
            return "unknown reason";
        }
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == cause ? cause.toString() : cause + " (" + root + ")";
    }

    /**
     * The pooled allocator rather than Netty 4.2's default adaptive one: every forwarded message is a retained
     * slice of a read buffer, and only the pooled allocator recycles those slices instead of allocating one per
     * message (measured: less CPU per transaction under pgbench).
     */
    public ByteBufAllocator allocator() {
        return PooledByteBufAllocator.DEFAULT;
    }

    public EventLoopGroup newEventLoopGroup(int threads, String threadNamePrefix) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(threadNamePrefix), ioHandlerFactory);
    }
}
