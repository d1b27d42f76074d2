package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;

/** Cuts whole messages out of a byte stream, without copying. */
public final class Frames {

    public static final int HEADER_LENGTH = 5;
    /** PostgreSQL's own limit (MAX_STARTUP_PACKET_LENGTH in pqcomm.h). */
    public static final int MAX_STARTUP_PACKET_LENGTH = 10_000;

    private static final int LENGTH_FIELD = 4;
    private static final int MIN_STARTUP_PACKET_LENGTH = 8;

    private Frames() {
    }

    /**
     * If {@code in} holds a whole typed message (1-byte tag, int32 length that counts itself but not the tag, body)
     * starting at its readerIndex, returns a retained slice of the whole message including its 5-byte header and
     * advances {@code in}'s readerIndex past it; otherwise returns null and leaves {@code in} untouched.
     *
     * @throws ProtocolException when the length is below 4 or above {@code maxMessageLength}, as soon as the header
     *     is readable, so that a hostile length is rejected before anything is buffered for it
     */
    public static ByteBuf readMessage(ByteBuf in, int maxMessageLength) {
        int whole = wholeMessageAt(in, in.readerIndex(), maxMessageLength);
        return whole < 0 ? null : in.readRetainedSlice(whole);
    }

    /**
     * Same as {@link #readMessage}, except that a DataRow or CopyData message comes back together with the whole
     * messages of the same type that directly follow it, up to {@code maxRunBytes} in all: one slice for a run of
     * rows. A relay routes such a run exactly as its first message (none of them completes a request), and
     * forwarding one slice instead of thousands is what keeps large results and COPY cheap.
     */
    public static ByteBuf readRun(ByteBuf in, int maxMessageLength, int maxRunBytes) {
        int start = in.readerIndex();
        int whole = wholeMessageAt(in, start, maxMessageLength);
        if (whole < 0) {
            return null;
        }
        byte tag = in.getByte(start);
        int end = start + whole;
        if (tag == Tags.Backend.DATA_ROW || tag == Tags.Backend.COPY_DATA) {
            while (end - start < maxRunBytes && in.writerIndex() - end >= HEADER_LENGTH && in.getByte(end) == tag) {
                int next = wholeMessageAt(in, end, maxMessageLength);
                if (next < 0 || end - start + next > maxRunBytes) {
                    break;
                }
                end += next;
            }
        }
        return in.readRetainedSlice(end - start);
    }

    /** The size of the whole message at {@code at} (header included), or -1 if it has not all arrived yet. */
    private static int wholeMessageAt(ByteBuf in, int at, int maxMessageLength) {
        if (in.writerIndex() - at < HEADER_LENGTH) {
            return -1;
        }
        int length = in.getInt(at + 1);
        if (length < LENGTH_FIELD) {
            throw new ProtocolException("invalid message length " + length + " for " + describeEither(in.getByte(at)));
        }
        if (length > maxMessageLength) {
            throw new ProtocolException("message length " + length + " exceeds the limit of " + maxMessageLength
                    + " for " + describeEither(in.getByte(at)));
        }
        return in.writerIndex() - at - 1 < length ? -1 : length + 1;
    }

    /**
     * Same as {@link #readMessage} for a startup-phase packet (no tag: int32 length counting itself, then payload).
     * Returns a retained slice of the whole packet including the length.
     */
    public static ByteBuf readStartupPacket(ByteBuf in) {
        if (in.readableBytes() < LENGTH_FIELD) {
            return null;
        }
        int length = in.getInt(in.readerIndex());
        if (length < MIN_STARTUP_PACKET_LENGTH || length > MAX_STARTUP_PACKET_LENGTH) {
            throw new ProtocolException("invalid startup packet length " + length);
        }
        if (in.readableBytes() < length) {
            return null;
        }
        return in.readRetainedSlice(length);
    }

    /**
     * True for the head of a message relayed as it arrives (its header and the start of its body): fewer bytes
     * than its length field declares. Never true for a whole message.
     */
    public static boolean isPartial(ByteBuf message) {
        return message.readableBytes() < declaredSize(message);
    }

    /** The size of the whole message (header included) as its length field declares it. */
    public static long declaredSize(ByteBuf message) {
        return 1L + message.getInt(message.readerIndex() + 1);
    }

    public static byte tag(ByteBuf message) {
        return message.getByte(message.readerIndex());
    }

    /** The transaction status ('I', 'T' or 'E') carried by a whole ReadyForQuery message. */
    public static byte readyForQueryStatus(ByteBuf message) {
        // Read in place: this runs once per transaction on the relay path, so no reader object.
        int start = message.readerIndex();
        if (message.readableBytes() != HEADER_LENGTH + 1 || message.getByte(start) != Tags.Backend.READY_FOR_QUERY
                || message.getInt(start + 1) != LENGTH_FIELD + 1) {
            throw new ProtocolException("malformed ReadyForQuery message");
        }
        byte status = message.getByte(start + HEADER_LENGTH);
        if (status != 'I' && status != 'T' && status != 'E') {
            throw new ProtocolException("invalid transaction status " + (status & 0xff) + " in ReadyForQuery");
        }
        return status;
    }

    // Framing is direction-agnostic, so the error text names both readings of the tag.
    private static String describeEither(byte tag) {
        String frontend = Tags.describeFrontend(tag);
        String backend = Tags.describeBackend(tag);
        return frontend.equals(backend) ? frontend : frontend + "/" + backend;
    }
}
