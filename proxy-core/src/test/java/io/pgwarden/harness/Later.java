package io.pgwarden.harness;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import java.util.ArrayDeque;

/**
 * What a real event loop would run after the task at hand: the closes pgwarden asks for. On a socket, close()
 * returns before the channel's end is reported (channelInactive comes in a later task), and pgwarden relies on
 * that: a session sets its close reason after asking for the close. EmbeddedChannel reports the end inside
 * close() itself, so its channels get {@link #closeHandler()}, which holds pgwarden's closes until the test's
 * next step runs them with {@link #runAll()}. Closes the test itself makes (a peer going away) happen at once.
 */
public final class Later {

    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    private final ChannelHandler closeHandler = new CloseLater();
    private Channel closingNow;

    /** Goes first in a channel's pipeline, so that it sees every close, a handler's ctx.close() included. */
    public ChannelHandler closeHandler() {
        return closeHandler;
    }

    /** Runs what was put off, and what that puts off in turn, until nothing is left. */
    public void runAll() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            task.run();
        }
    }

    /** A close by the test: {@code channel} ends now, and pgwarden hears of it within this call. */
    public void closeNow(Channel channel, Runnable close) {
        runAll();
        closingNow = channel;
        try {
            close.run();
        } finally {
            closingNow = null;
        }
    }

    @ChannelHandler.Sharable
    private final class CloseLater extends ChannelOutboundHandlerAdapter {
        @Override
        public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
            if (ctx.channel() == closingNow) {
                ctx.close(promise);
            } else {
                tasks.add(() -> ctx.close(promise));
            }
        }
    }
}
