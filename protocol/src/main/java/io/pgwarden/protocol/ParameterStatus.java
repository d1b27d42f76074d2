package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;

/** Decodes a whole ParameterStatus ('S') message from PostgreSQL. */
public final class ParameterStatus {

    private ParameterStatus() {
    }

    public record Entry(String name, String value) {
    }

    public static Entry decode(ByteBuf message) {
        MessageReader reader = MessageReader.typed(message, "ParameterStatus", Tags.Backend.PARAMETER_STATUS);
        String name = reader.readCString();
        String value = reader.readCString();
        reader.expectEnd();
        return new Entry(name, value);
    }
}
