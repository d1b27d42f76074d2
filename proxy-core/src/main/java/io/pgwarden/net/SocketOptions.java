package io.pgwarden.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringSocketChannel;
import java.time.Duration;
import jdk.net.ExtendedSocketOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TCP keepalive and user timeout, so a peer that vanished without a FIN or RST (a NAT box, a firewall, a
 * pulled cable) is noticed by the kernel instead of leaving a connection that looks alive forever.
 */
public final class SocketOptions {

    private static final Logger log = LoggerFactory.getLogger(SocketOptions.class);

    private SocketOptions() {
    }

    /**
     * @param userTimeout how long sent data may stay unacknowledged before the kernel drops the connection;
     *     zero leaves the system default. Only the native transports (io_uring, epoll) can set it.
     */
    public static void apply(Channel channel, Duration keepaliveIdle, Duration keepaliveInterval, int keepaliveCount,
                             Duration userTimeout) {
        ChannelConfig config = channel.config();
        config.setOption(ChannelOption.SO_KEEPALIVE, true);
        int idle = seconds(keepaliveIdle);
        int interval = seconds(keepaliveInterval);
        try {
            if (channel instanceof EpollSocketChannel) {
                config.setOption(EpollChannelOption.TCP_KEEPIDLE, idle);
                config.setOption(EpollChannelOption.TCP_KEEPINTVL, interval);
                config.setOption(EpollChannelOption.TCP_KEEPCNT, keepaliveCount);
                if (!userTimeout.isZero()) {
                    config.setOption(EpollChannelOption.TCP_USER_TIMEOUT, millis(userTimeout));
                }
            } else if (channel instanceof IoUringSocketChannel) {
                config.setOption(IoUringChannelOption.TCP_KEEPIDLE, idle);
                config.setOption(IoUringChannelOption.TCP_KEEPINTVL, interval);
                config.setOption(IoUringChannelOption.TCP_KEEPCNT, keepaliveCount);
                if (!userTimeout.isZero()) {
                    config.setOption(IoUringChannelOption.TCP_USER_TIMEOUT, millis(userTimeout));
                }
            } else {
                // The JDK has no TCP_USER_TIMEOUT (JDK 17): on NIO a dead peer is found by keepalive alone.
                config.setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), idle);
                config.setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), interval);
                config.setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), keepaliveCount);
            }
        } catch (RuntimeException e) {
            // Keepalive itself is on; only the timings fall back to the system's.
            log.debug("could not set keepalive timings on {}: {}", channel, e.toString());
        }
    }

    private static int millis(Duration timeout) {
        return (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    }

    /** The kernel counts in whole seconds; anything shorter becomes one second rather than "off". */
    private static int seconds(Duration duration) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, duration.toSeconds()));
    }
}
