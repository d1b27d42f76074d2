package io.pgwarden.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a peer receives through the coalescer: the same bytes in the same order as without it, in one write per
 * flush for a transaction's worth of small messages, and nothing held back past a flush or leaked at a close.
 */
class WriteCoalescerTest {

    private final EmbeddedChannel channel = new EmbeddedChannel(new WriteCoalescer());

    @Test
    void aTransactionsSmallMessagesLeaveInOneWrite() {
        byte[][] answer = {message('T', 30), message('D', 20), message('C', 13), message('Z', 1)};
        for (byte[] m : answer) {
            channel.write(Unpooled.wrappedBuffer(m), channel.voidPromise());
        }
        assertThat(channel.outboundMessages()).isEmpty();
        channel.flush();

        List<byte[]> writes = drain();
        assertThat(writes).hasSize(1);
        assertThat(writes.get(0)).isEqualTo(concat(answer));
    }

    @Test
    void largeMessagesAndPromisedWritesKeepTheirPlace() {
        byte[] small1 = message('D', 10);
        byte[] large = message('D', WriteCoalescer.MAX_COPIED + 100);
        byte[] small2 = message('C', 13);
        byte[] promised = message('Z', 1);
        byte[] small3 = message('N', 5);
        channel.write(Unpooled.wrappedBuffer(small1), channel.voidPromise());
        channel.write(Unpooled.wrappedBuffer(large), channel.voidPromise());
        channel.write(Unpooled.wrappedBuffer(small2), channel.voidPromise());
        ChannelFuture done = channel.write(Unpooled.wrappedBuffer(promised));
        channel.write(Unpooled.wrappedBuffer(small3), channel.voidPromise());
        channel.flush();

        assertThat(done.isSuccess()).isTrue();
        assertThat(concat(drain().toArray(byte[][]::new))).isEqualTo(concat(small1, large, small2, promised, small3));
    }

    @Test
    void manySmallMessagesAreCutIntoBoundedWrites() {
        List<byte[]> sent = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            byte[] m = message('D', 100 + i % 7);
            sent.add(m);
            channel.write(Unpooled.wrappedBuffer(m), channel.voidPromise());
        }
        channel.flush();

        List<byte[]> writes = drain();
        assertThat(writes).allSatisfy(w -> assertThat(w.length).isLessThanOrEqualTo(WriteCoalescer.MAX_GATHERED));
        assertThat(concat(writes.toArray(byte[][]::new))).isEqualTo(concat(sent.toArray(byte[][]::new)));
    }

    @Test
    void aCloseWithUnflushedMessagesLeavesNothingAllocated() {
        UnpooledByteBufAllocator counting = new UnpooledByteBufAllocator(true);
        channel.config().setAllocator(counting);
        channel.write(Unpooled.wrappedBuffer(message('C', 13)), channel.voidPromise());
        channel.write(Unpooled.wrappedBuffer(message('Z', 1)), channel.voidPromise());
        channel.close();

        // As Netty fails (and releases) what a close leaves unflushed, so the gathered copy goes too.
        assertThatThrownBy(channel::checkException).isInstanceOf(ClosedChannelException.class);
        assertThat(channel.outboundMessages()).isEmpty();
        assertThat(counting.metric().usedDirectMemory()).isZero();
    }

    private List<byte[]> drain() {
        List<byte[]> writes = new ArrayList<>();
        ByteBuf written;
        while ((written = channel.readOutbound()) != null) {
            byte[] bytes = new byte[written.readableBytes()];
            written.readBytes(bytes);
            written.release();
            writes.add(bytes);
        }
        return writes;
    }

    private static byte[] message(char tag, int body) {
        byte[] m = new byte[5 + body];
        m[0] = (byte) tag;
        int length = 4 + body;
        m[1] = (byte) (length >>> 24);
        m[2] = (byte) (length >>> 16);
        m[3] = (byte) (length >>> 8);
        m[4] = (byte) length;
        Arrays.fill(m, 5, m.length, (byte) (tag + 1));
        return m;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            all.writeBytes(p);
        }
        return all.toByteArray();
    }
}
