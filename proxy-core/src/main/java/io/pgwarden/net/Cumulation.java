package io.pgwarden.net;

import io.netty.handler.codec.ByteToMessageDecoder;

/**
 * How the frame decoders gather a socket's bytes into whole messages, so that a long COPY or result holds about
 * one message in the decoder rather than everything read since the stream last happened to end on a message
 * boundary.
 */
public final class Cumulation {

    /**
     * Netty's merge cumulator, but first dropping the bytes already cut into messages once nothing shares them.
     * Netty discards those only at points where the slices just cut are still queued to the other socket, so
     * after a flush the buffer grew in place with every read (164-260 MB seen during a 200 MB COPY). When slices
     * are still out, the merge cumulator itself copies only the unread bytes into a new buffer.
     */
    public static final ByteToMessageDecoder.Cumulator COMPACTING = (alloc, cumulation, in) -> {
        if (cumulation.readerIndex() > 0 && cumulation.refCnt() == 1
                && in.readableBytes() > cumulation.writableBytes()) {
            cumulation.discardReadBytes();
        }
        return ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(alloc, cumulation, in);
    };

    private Cumulation() {
    }
}
