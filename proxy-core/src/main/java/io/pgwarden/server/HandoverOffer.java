package io.pgwarden.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running process's side of listen.handover_socket: a Unix socket where the next process (the same user's
 * only: the file is 0600 and the peer's uid is checked) gets this process's listening socket, and whose
 * confirmation starts this process's drain.
 */
final class HandoverOffer {

    private static final Logger log = LoggerFactory.getLogger(HandoverOffer.class);
    /** The new process confirms once it has registered the socket, which takes milliseconds; a hung one is cut. */
    private static final int CONFIRM_TIMEOUT_SECONDS = 30;

    private final Path path;
    private final AtomicBoolean given = new AtomicBoolean();
    private Channel server;
    /** What identifies this process's socket file, to tell it from a newer process's at the same path. */
    private Object fileKey;

    private HandoverOffer(Path path) {
        this.path = path;
    }

    /**
     * @param listener this process's listening socket, or null once it is closed (nothing left to give)
     * @param onTaken runs once, on an event loop, when a new process confirms it accepts on the socket
     */
    static HandoverOffer open(EventLoopGroup loops, Path path, Supplier<FileDescriptor> listener, Runnable onTaken)
            throws IOException, InterruptedException {
        int ownUid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        // Bound under a name of its own and renamed over the path: the path never goes missing between the old
        // process's socket and this one's, and Netty's removal of the bound name at close cannot hit the new one's.
        Path bound = path.resolveSibling(path.getFileName() + "." + ProcessHandle.current().pid() + "."
                + Long.toHexString(System.nanoTime()) + ".new");
        Files.deleteIfExists(bound);
        HandoverOffer offer = new HandoverOffer(path);
        offer.server = new ServerBootstrap()
                .group(loops)
                .channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(CONFIRM_TIMEOUT_SECONDS));
                        ch.pipeline().addLast(offer.new Giver(ownUid, listener, onTaken));
                    }
                })
                .bind(new DomainSocketAddress(bound.toFile())).sync().channel();
        Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
        Files.move(bound, path, StandardCopyOption.ATOMIC_MOVE);
        offer.fileKey = fileKey(path);
        log.info("event=handover_listen path={}", path);
        return offer;
    }

    /** Stops offering (the listener is closing); the path is removed unless a newer process's socket is there. */
    void close() {
        server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        try {
            if (fileKey != null && fileKey.equals(fileKey(path))) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            log.warn("event=handover_cleanup path={} error=\"{}\"", path, e.getMessage());
        }
    }

    private static Object fileKey(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private final class Giver extends ChannelInboundHandlerAdapter {
        private final int ownUid;
        private final Supplier<FileDescriptor> listener;
        private final Runnable onTaken;

        Giver(int ownUid, Supplier<FileDescriptor> listener, Runnable onTaken) {
            this.ownUid = ownUid;
            this.listener = listener;
            this.onTaken = onTaken;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws IOException {
            int uid = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials().uid();
            FileDescriptor fd = listener.get();
            if (uid != ownUid || fd == null || given.get()) {
                log.warn("event=handover_refused path={} peer_uid={} reason={}", path, uid,
                        uid != ownUid ? "another_user" : "not_listening");
                ctx.close();
                return;
            }
            ctx.writeAndFlush(fd);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws IOException {
            boolean taken = msg instanceof ByteBuf buf && buf.readableBytes() == 1
                    && buf.getByte(buf.readerIndex()) == HandoverReceiver.TAKEN;
            ReferenceCountUtil.release(msg);
            if (taken && given.compareAndSet(false, true)) {
                log.info("event=handover_given path={} to_pid={}", path,
                        ((EpollDomainSocketChannel) ctx.channel()).peerCredentials().pid());
                onTaken.run();
            }
            ctx.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.warn("event=handover_failed path={} error=\"{}\"", path, cause.toString());
            ctx.close();
        }
    }
}
