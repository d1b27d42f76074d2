package io.pgwarden.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgwarden.net.LargeMessages;
import io.pgwarden.net.MessageChunk;
import io.pgwarden.net.MessageHead;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.StartupMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How a logged-in client's large messages come out of the decoder: a head, then chunks, never the whole. */
class FrontendFrameDecoderStreamingTest {

    private final FrontendFrameDecoder decoder = new FrontendFrameDecoder();
    private final EmbeddedChannel channel = new EmbeddedChannel(decoder);

    FrontendFrameDecoderStreamingTest() {
        ByteBuf startup = Unpooled.buffer();
        byte[] params = "user\0u\0\0".getBytes(StandardCharsets.US_ASCII);
        startup.writeInt(8 + params.length).writeInt(3 << 16).writeBytes(params);
        channel.writeInbound(startup);
        assertThat((Object) channel.readInbound()).isInstanceOf(StartupMessage.class);
        decoder.setMaxMessageLength(1 << 30);
        decoder.streamLargeMessages();
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    @Test
    void aLargeQueryComesAsAHeadThenChunksAsItArrives() {
        int body = 3 << 20;
        ByteBuf wire = message('Q', body, null);
        wire.writeBytes(new byte[] {'S', 0, 0, 0, 4});
        List<Object> out = feed(wire, 100_000);
        MessageHead head = (MessageHead) out.get(0);
        assertThat(head.message().readableBytes()).isEqualTo(Frames.HEADER_LENGTH + LargeMessages.STREAM_PREFIX);
        assertThat(Frames.isPartial(head.message())).isTrue();
        assertThat(Frames.declaredSize(head.message())).isEqualTo(Frames.HEADER_LENGTH + body);
        long chunked = 0;
        int i = 1;
        for (; out.get(i) instanceof MessageChunk chunk; i++) {
            chunked += chunk.content().readableBytes();
            assertThat(chunk.last()).isEqualTo(chunked == body - LargeMessages.STREAM_PREFIX);
            // Never more than what one read brought.
            assertThat(chunk.content().readableBytes()).isLessThanOrEqualTo(100_000);
        }
        assertThat(chunked).isEqualTo(body - LargeMessages.STREAM_PREFIX);
        ByteBuf sync = (ByteBuf) out.get(i);
        assertThat(Frames.tag(sync)).isEqualTo((byte) 'S');
        assertThat(out).hasSize(i + 1);
        release(out);
    }

    @Test
    void smallMessagesAndANamedParseComeWhole() {
        ByteBuf wire = message('Q', 100, null);
        // A named statement's text is kept whole anyway.
        wire.writeBytes(message('P', 2 << 20, "s1\0"));
        List<Object> out = feed(wire, 100_000);
        assertThat(out).hasSize(2).allMatch(m -> m instanceof ByteBuf);
        assertThat(((ByteBuf) out.get(1)).readableBytes()).isEqualTo(Frames.HEADER_LENGTH + (2 << 20));
        release(out);
    }

    @Test
    void aBindWhoseNamesDoNotFitTheHeadComesWhole() {
        ByteBuf wire = message('B', 2 << 20, null);
        List<Object> out = feed(wire, 100_000);
        assertThat(out).hasSize(1);
        assertThat(out.get(0)).isInstanceOf(ByteBuf.class);
        release(out);
    }

    @Test
    void anUnnamedParseAndABindWithItsNamesInTheHeadStream() {
        ByteBuf wire = message('P', 2 << 20, "\0");
        wire.writeBytes(message('B', 2 << 20, "portal\0stmt\0"));
        List<Object> out = feed(wire, 1 << 20);
        assertThat(out).filteredOn(m -> m instanceof MessageHead).hasSize(2);
        assertThat(out).allMatch(m -> !(m instanceof ByteBuf));
        release(out);
    }

    /** A message of {@code body} bytes starting with {@code start}, the rest letters (no NUL). */
    private static ByteBuf message(char tag, int body, String start) {
        ByteBuf b = Unpooled.buffer(Frames.HEADER_LENGTH + body);
        b.writeByte(tag).writeInt(4 + body);
        byte[] prefix = start == null ? new byte[0] : start.getBytes(StandardCharsets.US_ASCII);
        b.writeBytes(prefix);
        for (int i = prefix.length; i < body; i++) {
            b.writeByte('a' + i % 26);
        }
        return b;
    }

    private List<Object> feed(ByteBuf wire, int piece) {
        List<Object> out = new ArrayList<>();
        while (wire.isReadable()) {
            channel.writeInbound(wire.readRetainedSlice(Math.min(piece, wire.readableBytes())));
            Object m;
            while ((m = channel.readInbound()) != null) {
                out.add(m);
            }
        }
        wire.release();
        return out;
    }

    private static void release(List<Object> out) {
        for (Object m : out) {
            if (m instanceof MessageHead h) {
                h.message().release();
            } else if (m instanceof MessageChunk c) {
                c.content().release();
            } else if (m instanceof ByteBuf b) {
                b.release();
            }
        }
    }
}
