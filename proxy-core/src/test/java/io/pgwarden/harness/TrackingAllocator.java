package io.pgwarden.harness;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * Every buffer the harness's channels allocate, kept so that a test can demand they were all released. Netty's
 * leak detector reports only what the garbage collector happens to find, later, in the log; this fails the test
 * that leaked, at its end. Slices and duplicates hold a reference on the buffer they came from, so checking the
 * allocated buffers covers them too.
 */
final class TrackingAllocator extends AbstractByteBufAllocator {

    private final List<ByteBuf> allocated = new ArrayList<>();

    TrackingAllocator() {
        super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        ByteBuf buffer = new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
        allocated.add(buffer);
        return buffer;
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return newHeapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    /** Buffers still referenced, each described with its first bytes (a message tag says whose it is). */
    List<String> unreleased() {
        List<String> leaks = new ArrayList<>();
        for (ByteBuf buffer : allocated) {
            if (buffer.refCnt() > 0) {
                int shown = Math.min(32, buffer.writerIndex());
                leaks.add("refCnt " + buffer.refCnt() + ", " + buffer.writerIndex() + " bytes: "
                        + io.netty.buffer.ByteBufUtil.hexDump(buffer, 0, shown));
            }
        }
        return leaks;
    }
}
