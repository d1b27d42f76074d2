package io.pgwarden.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ReferenceCountUtil;
import io.pgwarden.backend.MessageFrameDecoder;
import io.pgwarden.frontend.FrontendFrameDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A long COPY, relayed as the proxy relays it: every read yields messages and ends mid-message, the slices go
 * out in the flush at the read's end, and the other side takes them at once. The decoder must then hold about
 * a read's worth, not everything read since the stream last ended on a message boundary.
 */
class CumulationTest {

    /** A prime, so that no read ends on a message boundary within the test. */
    private static final int MESSAGE = 1009;
    private static final int READ = 65_000;
    private static final long TOTAL = 64L * 1024 * 1024;

    static Stream<Supplier<ByteToMessageDecoder>> decoders() {
        return Stream.of(CumulationTest::loggedInFrontend, () -> new MessageFrameDecoder(1 << 20));
    }

    @ParameterizedTest
    @MethodSource("decoders")
    void aLongCopyThroughTheDecoderHoldsAboutOneRead(Supplier<ByteToMessageDecoder> decoder) {
        UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(false, true);
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setAllocator(alloc);
        List<Object> relayed = new ArrayList<>();
        channel.pipeline().addLast(decoder.get(), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                relayed.add(msg);
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                relayed.forEach(ReferenceCountUtil::release);
                relayed.clear();
            }
        });
        if (channel.pipeline().first() instanceof FrontendFrameDecoder) {
            channel.writeInbound(startupMessage(alloc));
        }
        byte[] message = copyData();
        long peak = 0;
        int at = 0;
        for (long sent = 0; sent < TOTAL; sent += READ) {
            ByteBuf read = alloc.heapBuffer(READ);
            while (read.isWritable()) {
                int n = Math.min(read.writableBytes(), message.length - at);
                read.writeBytes(message, at, n);
                at = (at + n) % message.length;
            }
            channel.writeInbound(read);
            peak = Math.max(peak, alloc.metric().usedHeapMemory());
        }
        assertThat(peak).as("bytes the decoder holds while %d MB stream through", TOTAL >> 20)
                .isLessThan(1024L * 1024);
        channel.finishAndReleaseAll();
    }

    private static ByteToMessageDecoder loggedInFrontend() {
        FrontendFrameDecoder frames = new FrontendFrameDecoder();
        frames.setMaxMessageLength(1 << 20);
        return frames;
    }

    private static ByteBuf startupMessage(UnpooledByteBufAllocator alloc) {
        byte[] params = "user\0app\0\0".getBytes(StandardCharsets.US_ASCII);
        return alloc.heapBuffer().writeInt(8 + params.length).writeInt(196_608).writeBytes(params);
    }

    private static byte[] copyData() {
        byte[] message = new byte[MESSAGE];
        message[0] = 'd';
        int length = MESSAGE - 1;
        message[1] = (byte) (length >>> 24);
        message[2] = (byte) (length >>> 16);
        message[3] = (byte) (length >>> 8);
        message[4] = (byte) length;
        return message;
    }
}
