package io.pgwarden.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FramesTest {

    private static final int MAX = 1 << 20;

    private static final byte[] QUERY = Golden.bytes().tag('Q').i32(13).cstr("select 1").build();
    private static final byte[] SYNC = Golden.bytes().tag('S').i32(4).build();

    @Test
    void returnsNullUntilTheMessageIsCompleteAtEveryByteBoundary() {
        for (int split = 0; split < QUERY.length; split++) {
            ByteBuf in = Unpooled.buffer();
            in.writeBytes(QUERY, 0, split);
            assertThat(Frames.readMessage(in, MAX)).as("prefix of %d bytes", split).isNull();
            assertThat(in.readerIndex()).isZero();
            in.writeBytes(QUERY, split, QUERY.length - split);
            ByteBuf message = Frames.readMessage(in, MAX);
            assertThat(Golden.readable(message)).isEqualTo(QUERY);
            assertThat(in.isReadable()).isFalse();
            message.release();
            assertThat(in.release()).isTrue();
        }
    }

    @Test
    void feedsByteByByteLikeANetworkWould() {
        ByteBuf in = Unpooled.buffer();
        List<byte[]> messages = new ArrayList<>();
        byte[] stream = Golden.bytes().raw(QUERY).raw(SYNC).raw(QUERY).build();
        for (byte b : stream) {
            in.writeByte(b);
            ByteBuf message;
            while ((message = Frames.readMessage(in, MAX)) != null) {
                messages.add(Golden.readable(message));
                message.release();
            }
        }
        assertThat(messages).containsExactly(QUERY, SYNC, QUERY);
        in.release();
    }

    @Test
    void cutsManyMessagesOutOfOneBufferAndLeavesAPartialOneInPlace() {
        ByteBuf in = Unpooled.buffer();
        in.writeBytes(QUERY).writeBytes(SYNC).writeBytes(QUERY).writeBytes(QUERY, 0, 7);
        ByteBuf first = Frames.readMessage(in, MAX);
        ByteBuf second = Frames.readMessage(in, MAX);
        ByteBuf third = Frames.readMessage(in, MAX);
        assertThat(Frames.readMessage(in, MAX)).isNull();

        assertThat(Golden.readable(first)).isEqualTo(QUERY);
        assertThat(Golden.readable(second)).isEqualTo(SYNC);
        assertThat(Golden.readable(third)).isEqualTo(QUERY);
        assertThat(Frames.tag(first)).isEqualTo(Tags.Frontend.QUERY);
        assertThat(Frames.tag(second)).isEqualTo(Tags.Frontend.SYNC);
        assertThat(in.readableBytes()).isEqualTo(7);
        for (ByteBuf message : List.of(first, second, third)) {
            message.release();
        }
        in.release();
    }

    @Test
    void returnedSlicesAreRetainedAndReleaseTheSourceOnlyWhenAllAreReleased() {
        ByteBuf in = PooledByteBufAllocator.DEFAULT.directBuffer();
        in.writeBytes(QUERY).writeBytes(SYNC);
        ByteBuf first = Frames.readMessage(in, MAX);
        ByteBuf second = Frames.readMessage(in, MAX);
        assertThat(in.refCnt()).isEqualTo(3);

        in.release(); // the decoder is done with its cumulation
        assertThat(in.refCnt()).isEqualTo(2);
        assertThat(Golden.readable(second)).isEqualTo(SYNC);
        first.release();
        assertThat(second.release()).isTrue();
        assertThat(in.refCnt()).isZero();
    }

    @Test
    void acceptsTheSmallestLengthAndALengthEqualToTheLimit() {
        ByteBuf in = Golden.bytes().raw(SYNC).tag('Q').i32(13).cstr("select 1").buf();
        ByteBuf sync = Frames.readMessage(in, 12);
        ByteBuf query = Frames.readMessage(in, 13);
        assertThat(Golden.readable(sync)).isEqualTo(SYNC);
        assertThat(Golden.readable(query)).isEqualTo(QUERY);
        sync.release();
        query.release();
        in.release();
    }

    @Test
    void rejectsALengthTooSmallToCountItself() {
        ByteBuf in = Golden.bytes().tag('Q').i32(3).buf();
        assertThatThrownBy(() -> Frames.readMessage(in, MAX)).isInstanceOf(ProtocolException.class);
        assertThat(in.readerIndex()).isZero();
        in.release();
    }

    @Test
    void rejectsANegativeLength() {
        ByteBuf in = Golden.bytes().tag('Q').i32(-1).buf();
        assertThatThrownBy(() -> Frames.readMessage(in, MAX)).isInstanceOf(ProtocolException.class);
        in.release();
    }

    @Test
    void rejectsAnOversizedLengthAsSoonAsTheHeaderArrives() {
        ByteBuf in = Golden.bytes().tag('Q').i32(MAX + 1).buf();
        assertThatThrownBy(() -> Frames.readMessage(in, MAX))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("exceeds");
        in.release();
    }

    @Test
    void readsStartupPacketsSplitAtEveryByteBoundary() {
        byte[] packet = Golden.bytes().i32(8).i32(80877103).build();
        for (int split = 0; split < packet.length; split++) {
            ByteBuf in = Unpooled.buffer();
            in.writeBytes(packet, 0, split);
            assertThat(Frames.readStartupPacket(in)).isNull();
            assertThat(in.readerIndex()).isZero();
            in.writeBytes(packet, split, packet.length - split);
            in.writeByte('x'); // whatever follows (a TLS hello) is left alone
            ByteBuf read = Frames.readStartupPacket(in);
            assertThat(Golden.readable(read)).isEqualTo(packet);
            assertThat(in.readableBytes()).isOne();
            read.release();
            in.release();
        }
    }

    @Test
    void enforcesStartupPacketLengthLimits() {
        for (int length : new int[] {-1, 0, 4, 7, Frames.MAX_STARTUP_PACKET_LENGTH + 1}) {
            ByteBuf in = Golden.bytes().i32(length).buf();
            assertThatThrownBy(() -> Frames.readStartupPacket(in)).as("length %d", length)
                    .isInstanceOf(ProtocolException.class);
            in.release();
        }
        ByteBuf largest = Unpooled.buffer();
        largest.writeInt(Frames.MAX_STARTUP_PACKET_LENGTH).writeZero(Frames.MAX_STARTUP_PACKET_LENGTH - 5);
        assertThat(Frames.readStartupPacket(largest)).isNull();
        largest.writeByte(0);
        ByteBuf packet = Frames.readStartupPacket(largest);
        assertThat(packet.readableBytes()).isEqualTo(Frames.MAX_STARTUP_PACKET_LENGTH);
        packet.release();
        largest.release();
    }

    @Test
    void readsTheTransactionStatusOfReadyForQuery() {
        for (char status : new char[] {'I', 'T', 'E'}) {
            ByteBuf message = Golden.bytes().tag('Z').i32(5).i8(status).buf();
            assertThat(Frames.readyForQueryStatus(message)).isEqualTo((byte) status);
            assertThat(message.readerIndex()).isZero();
            message.release();
        }
    }

    @Test
    void rejectsMalformedReadyForQuery() {
        for (ByteBuf message : List.of(
                Golden.bytes().tag('Z').i32(5).i8('X').buf(),
                Golden.bytes().tag('Z').i32(5).buf(),
                Golden.bytes().tag('Z').i32(4).buf(),
                Golden.bytes().tag('C').i32(5).i8('I').buf())) {
            assertThatThrownBy(() -> Frames.readyForQueryStatus(message)).isInstanceOf(ProtocolException.class);
            message.release();
        }
    }

    private static byte[] dataRow(int value) {
        return Golden.bytes().tag('D').i32(14).i16(1).i32(4).i32(value).build();
    }

    private static final byte[] COMMAND_COMPLETE = Golden.bytes().tag('C').i32(13).cstr("SELECT 3").build();

    @Test
    void aRunOfDataRowsComesAsOneSliceAndStopsAtTheFirstOtherMessage() {
        ByteBuf in = Unpooled.buffer();
        in.writeBytes(dataRow(1)).writeBytes(dataRow(2)).writeBytes(dataRow(3)).writeBytes(COMMAND_COMPLETE);
        ByteBuf run = Frames.readRun(in, MAX, 1 << 16);
        assertThat(Golden.readable(run))
                .isEqualTo(Golden.bytes().raw(dataRow(1)).raw(dataRow(2)).raw(dataRow(3)).build());
        ByteBuf complete = Frames.readRun(in, MAX, 1 << 16);
        assertThat(Golden.readable(complete)).isEqualTo(COMMAND_COMPLETE);
        assertThat(Frames.readRun(in, MAX, 1 << 16)).isNull();
        run.release();
        complete.release();
        in.release();
    }

    @Test
    void aRunEndsBeforeAnIncompleteRowAndAtTheSizeCap() {
        byte[] row = dataRow(7);
        ByteBuf in = Unpooled.buffer();
        for (int i = 0; i < 5; i++) {
            in.writeBytes(row);
        }
        in.writeBytes(row, 0, row.length - 1);
        ByteBuf capped = Frames.readRun(in, MAX, 2 * row.length + 1);
        assertThat(capped.readableBytes()).as("two whole rows fit the cap, a third would not").isEqualTo(2 * row.length);
        ByteBuf rest = Frames.readRun(in, MAX, 1 << 16);
        assertThat(rest.readableBytes()).as("the incomplete sixth row stays behind").isEqualTo(3 * row.length);
        assertThat(Frames.readRun(in, MAX, 1 << 16)).isNull();
        in.writeByte(row[row.length - 1]);
        ByteBuf last = Frames.readRun(in, MAX, 1 << 16);
        assertThat(Golden.readable(last)).isEqualTo(row);
        capped.release();
        rest.release();
        last.release();
        in.release();
    }

    @Test
    void otherMessagesAndMixedTypesAreNeverJoined() {
        byte[] copyData = Golden.bytes().tag('d').i32(6).raw(new byte[] {'a', '\n'}).build();
        ByteBuf in = Unpooled.buffer();
        in.writeBytes(SYNC).writeBytes(SYNC).writeBytes(dataRow(1)).writeBytes(copyData).writeBytes(copyData);
        List<Integer> sizes = new ArrayList<>();
        ByteBuf next;
        while ((next = Frames.readRun(in, MAX, 1 << 16)) != null) {
            sizes.add(next.readableBytes());
            next.release();
        }
        assertThat(sizes).containsExactly(SYNC.length, SYNC.length, dataRow(1).length, 2 * copyData.length);
        in.release();
    }

    @Test
    void aRunStillRejectsAHostileLength() {
        ByteBuf in = Unpooled.buffer();
        in.writeBytes(dataRow(1)).writeByte('D').writeInt(MAX + 1);
        assertThatThrownBy(() -> Frames.readRun(in, MAX, 1 << 16)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("exceeds the limit");
        in.release();
    }
}
