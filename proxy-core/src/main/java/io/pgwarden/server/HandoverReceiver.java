package io.pgwarden.server;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The new process's side of listen.handover_socket: it asks the process already running for its listening socket
 * and, once it accepts on it, confirms, which starts the old process's drain. Both processes then accept from one
 * socket and one accept queue, so unlike two SO_REUSEPORT sockets no connection waiting in a queue is reset when
 * the old one stops.
 */
public final class HandoverReceiver {

    private static final Logger log = LoggerFactory.getLogger(HandoverReceiver.class);
    /** The byte that tells the old process its listening socket is taken. */
    static final byte TAKEN = 'T';

    private HandoverReceiver() {
    }

    /** A listening socket received from the old process, not yet confirmed. */
    public static final class Received {
        private final Channel channel;
        private final FileDescriptor listener;
        private final int fromPid;

        Received(Channel channel, FileDescriptor listener, int fromPid) {
            this.channel = channel;
            this.listener = listener;
            this.fromPid = fromPid;
        }

        public FileDescriptor listener() {
            return listener;
        }

        public int fromPid() {
            return fromPid;
        }

        /** This process accepts on the socket now: the old one may stop (it drains). */
        public void confirm() {
            channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {TAKEN})).addListener(f -> channel.close())
                    .awaitUninterruptibly(5, TimeUnit.SECONDS);
        }

        /** The socket was not used (it listens elsewhere): the old process goes on, as if never asked. */
        public void abandon() {
            channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            try {
                listener.close();
            } catch (IOException e) {
                log.debug("closing an unused handed-over socket failed", e);
            }
        }
    }

    /**
     * @return the old process's listening socket, or empty when no process answers at {@code path} (none runs, or a
     *     crashed one left the file) or the one that answers gives none (it is draining: its socket is closed)
     * @throws IOException when the path cannot be used at all (a permission, not a socket)
     */
    public static Optional<Received> receive(EventLoopGroup loops, Path path, Duration timeout) throws IOException {
        if (!Files.exists(path)) {
            return Optional.empty();
        }
        if (!Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class).isOther()) {
            throw new IOException("listen.handover_socket " + path + " exists and is not a socket");
        }
        CompletableFuture<FileDescriptor> fd = new CompletableFuture<>();
        ChannelFuture connect = new Bootstrap()
                .group(loops)
                .channel(EpollDomainSocketChannel.class)
                .option(UnixChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof FileDescriptor descriptor) {
                            if (!fd.complete(descriptor)) {
                                closeQuietly(descriptor);
                            }
                        } else {
                            ReferenceCountUtil.release(msg);
                        }
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        fd.completeExceptionally(new IOException("it closed the connection without a socket"));
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        fd.completeExceptionally(cause);
                        ctx.close();
                    }
                })
                .connect(new DomainSocketAddress(path.toFile()));
        if (!connect.awaitUninterruptibly(timeout.toMillis()) || !connect.isSuccess()) {
            connect.channel().close();
            Throwable cause = connect.cause();
            if (cause instanceof ConnectException || cause instanceof NoSuchFileException) {
                // A process that crashed leaves its socket file behind; nobody listens on it.
                log.info("event=handover_none path={} reason=\"no process answers ({})\"", path, cause.getMessage());
                return Optional.empty();
            }
            throw new IOException("listen.handover_socket " + path + ": cannot connect: "
                    + (cause == null ? "timed out" : cause.getMessage()), cause);
        }
        Channel channel = connect.channel();
        try {
            FileDescriptor listener = fd.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            int pid = ((EpollDomainSocketChannel) channel).peerCredentials().pid();
            return Optional.of(new Received(channel, listener, pid));
        } catch (ExecutionException | TimeoutException e) {
            channel.close();
            String reason = e instanceof TimeoutException ? "no socket within " + timeout.toMillis() + " ms"
                    : e.getCause().getMessage();
            // A draining process has closed its listener and has nothing to give: bind as usual.
            log.info("event=handover_none path={} reason=\"{}\"", path, reason);
            fd.thenAccept(HandoverReceiver::closeQuietly);
            return Optional.empty();
        } catch (InterruptedException e) {
            channel.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while taking over the listening socket", e);
        }
    }

    private static void closeQuietly(FileDescriptor descriptor) {
        try {
            descriptor.close();
        } catch (IOException e) {
            log.debug("closing a handed-over socket failed", e);
        }
    }
}
