package io.pgwarden.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Every socket pgwarden opened itself (backends, health checks, cancel requests), so that a stop closes them and
 * waits before the event loops go. Left to the loops' own shutdown, an io_uring socket's read still under way is
 * never completed: the buffer Netty gave it is never released (a leak report), and no handler hears of the close.
 */
public final class OpenSockets {

    private final ChannelGroup channels = new DefaultChannelGroup("pgwarden-outbound", GlobalEventExecutor.INSTANCE);

    /** Makes channels of {@code type}, each remembered until it closes. */
    public ChannelFactory<Channel> factory(Class<? extends Channel> type) {
        ReflectiveChannelFactory<? extends Channel> made = new ReflectiveChannelFactory<>(type);
        return () -> {
            Channel channel = made.newChannel();
            channels.add(channel);
            return channel;
        };
    }

    public int size() {
        return channels.size();
    }

    /**
     * Closes every one still open; whether all had closed within the timeout. One made but not yet registered with
     * its event loop is left out: its close would throw (no loop to make the promise on), failing the whole stop;
     * its registration fails once the loops have shut down, or the loop's own end closes it.
     */
    public boolean closeAll(long timeout, TimeUnit unit) {
        return channels.close(Channel::isRegistered).awaitUninterruptibly(timeout, unit);
    }
}
