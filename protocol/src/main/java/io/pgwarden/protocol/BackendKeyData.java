package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;

/** Reads the cancellation key from a whole BackendKeyData ('K') message. */
public final class BackendKeyData {

    private BackendKeyData() {
    }

    public static int processId(ByteBuf message) {
        return reader(message).readInt();
    }

    public static int secretKey(ByteBuf message) {
        MessageReader reader = reader(message);
        reader.readInt();
        return reader.readInt();
    }

    // Protocol 3.2 allows longer keys; an int secret only fits 3.0/3.1, so anything else is rejected, not truncated.
    private static MessageReader reader(ByteBuf message) {
        MessageReader reader = MessageReader.typed(message, "BackendKeyData", Tags.Backend.BACKEND_KEY_DATA);
        if (reader.remaining() != 8) {
            throw new ProtocolException("unsupported BackendKeyData length " + (reader.remaining() + 4));
        }
        return reader;
    }
}
