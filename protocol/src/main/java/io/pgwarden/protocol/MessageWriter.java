package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Helpers to append one message. The length is back-patched at the position where this message's length word was
 * written, so encoding after other messages in the same buffer stays correct.
 */
final class MessageWriter {

    private MessageWriter() {
    }

    /** Writes the tag and a placeholder length; returns the index of the length word, for {@link #end}. */
    static int begin(ByteBuf out, byte tag) {
        out.writeByte(tag);
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        return lengthIndex;
    }

    static void end(ByteBuf out, int lengthIndex) {
        out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
    }

    /** Appends a complete message that consists of its header and a fixed body length, such as Sync. */
    static void empty(ByteBuf out, byte tag) {
        out.writeByte(tag);
        out.writeInt(4);
    }

    static void cString(ByteBuf out, String value) {
        // An embedded NUL would end the string early and desynchronise the peer's parser.
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("string contains a NUL character");
        }
        out.writeCharSequence(value, StandardCharsets.UTF_8);
        out.writeByte(0);
    }
}
