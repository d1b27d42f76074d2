package io.pgwarden.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.pgwarden.net.FatalErrorGuard;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 14, item 3: an OutOfMemoryError on an event loop ends the process instead of leaving it up and serving
 * no one. The error is injected into a pipeline built as the backend's is, its handler passing it on.
 */
class FatalErrorGuardTest {

    private final List<Integer> halts = new ArrayList<>();
    private final FatalErrorGuard guard = new FatalErrorGuard(halts::add);

    @Test
    void anOutOfMemoryErrorInAPipelineHaltsTheProcess() {
        EmbeddedChannel channel = new EmbeddedChannel(throwing(new OutOfMemoryError("Java heap space")),
                new BackendHandler(new LossCounters(), (pool, detail) -> { }, "db/user"), guard);
        channel.writeInbound(Unpooled.buffer().writeByte('Z'));

        assertThat(halts).containsExactly(3);
        channel.finishAndReleaseAll();
    }

    @Test
    void aWrappedOutOfMemoryErrorHaltsToo() {
        EmbeddedChannel channel = new EmbeddedChannel(
                throwing(new DecoderException(new OutOfMemoryError("Direct buffer memory"))), guard);
        channel.writeInbound(Unpooled.buffer().writeByte('Z'));

        assertThat(halts).containsExactly(3);
        channel.finishAndReleaseAll();
    }

    @Test
    void anOrdinaryExceptionIsPassedOnWithoutHalting() {
        EmbeddedChannel channel = new EmbeddedChannel(throwing(new IllegalStateException("bad")), guard);
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeByte('Z')))
                .isInstanceOf(IllegalStateException.class);

        assertThat(halts).isEmpty();
        channel.finishAndReleaseAll();
    }

    private static ChannelInboundHandlerAdapter throwing(Throwable error) {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
                io.netty.util.ReferenceCountUtil.release(msg);
                if (error instanceof Error e) {
                    throw e;
                }
                throw (Exception) error;
            }
        };
    }
}
