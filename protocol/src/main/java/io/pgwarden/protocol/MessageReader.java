package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Bounds-checked cursor over one whole message. It reads with absolute indexes so the caller's buffer is never
 * moved, and turns every overrun into a ProtocolException because truncation is the peer's fault, not ours.
 */
final class MessageReader {

    private final ByteBuf buf;
    private final String what;
    private final int end;
    private int position;

    private MessageReader(ByteBuf buf, String what, int position, int end) {
        this.buf = buf;
        this.what = what;
        this.position = position;
        this.end = end;
    }

    /** A reader over the body of a typed message, after checking its tag and that the declared length is present. */
    static MessageReader typed(ByteBuf message, String what, byte expectedTag) {
        return typed(message, what, expectedTag, expectedTag);
    }

    static MessageReader typed(ByteBuf message, String what, byte expectedTag, byte alternativeTag) {
        int start = message.readerIndex();
        if (message.readableBytes() < Frames.HEADER_LENGTH) {
            throw new ProtocolException("truncated " + what);
        }
        byte tag = message.getByte(start);
        if (tag != expectedTag && tag != alternativeTag) {
            throw new ProtocolException("expected " + what + " but got message type 0x"
                    + Integer.toHexString(tag & 0xff));
        }
        int length = message.getInt(start + 1);
        if (length < 4 || message.readableBytes() - 1 < length) {
            throw new ProtocolException("truncated or invalid length " + length + " in " + what);
        }
        return new MessageReader(message, what, start + Frames.HEADER_LENGTH, start + 1 + length);
    }

    /** A reader over a startup packet's payload (after the length word). */
    static MessageReader untyped(ByteBuf packet, String what) {
        int start = packet.readerIndex();
        if (packet.readableBytes() < 4) {
            throw new ProtocolException("truncated " + what);
        }
        int length = packet.getInt(start);
        if (length < 4 || packet.readableBytes() < length) {
            throw new ProtocolException("truncated or invalid length " + length + " in " + what);
        }
        return new MessageReader(packet, what, start + 4, start + length);
    }

    int remaining() {
        return end - position;
    }

    byte readByte() {
        require(1);
        return buf.getByte(position++);
    }

    short readShort() {
        require(2);
        short value = buf.getShort(position);
        position += 2;
        return value;
    }

    int readInt() {
        require(4);
        int value = buf.getInt(position);
        position += 4;
        return value;
    }

    byte[] readBytes(int count) {
        if (count < 0) {
            throw new ProtocolException("negative length " + count + " in " + what);
        }
        require(count);
        byte[] bytes = new byte[count];
        buf.getBytes(position, bytes);
        position += count;
        return bytes;
    }

    byte[] readRemaining() {
        return readBytes(remaining());
    }

    String readCString() {
        int nul = buf.indexOf(position, end, (byte) 0);
        if (nul < 0) {
            throw new ProtocolException("missing string terminator in " + what);
        }
        String value = buf.toString(position, nul - position, StandardCharsets.UTF_8);
        position = nul + 1;
        return value;
    }

    /** Trailing garbage is treated as a violation, as PostgreSQL does, since it means the peer and we disagree on the format. */
    void expectEnd() {
        if (position != end) {
            throw new ProtocolException((end - position) + " unexpected trailing bytes in " + what);
        }
    }

    private void require(int count) {
        if (end - position < count) {
            throw new ProtocolException("truncated " + what);
        }
    }
}
