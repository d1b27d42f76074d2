package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The startup message proper. Any protocol version is decoded; deciding which ones to accept is the caller's job.
 *
 * @param parameters unmodifiable and in wire order, because PostgreSQL applies them in that order
 */
public record StartupMessage(int protocolVersion, Map<String, String> parameters) implements StartupRequest {

    public static final int PROTOCOL_VERSION_3_0 = 3 << 16;

    public StartupMessage {
        Objects.requireNonNull(parameters, "parameters");
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    public int majorVersion() {
        return protocolVersion >>> 16;
    }

    public int minorVersion() {
        return protocolVersion & 0xffff;
    }

    public String user() {
        return parameters.get("user");
    }

    /** The database, defaulting to the user name when absent or empty, as PostgreSQL does. */
    public String database() {
        String database = parameters.get("database");
        return database == null || database.isEmpty() ? user() : database;
    }

    /** Appends the length-prefixed packet, as used to log in to PostgreSQL. */
    public void encode(ByteBuf out) {
        int start = out.writerIndex();
        out.writeInt(0);
        out.writeInt(protocolVersion);
        parameters.forEach((name, value) -> {
            MessageWriter.cString(out, name);
            MessageWriter.cString(out, value);
        });
        out.writeByte(0);
        out.setInt(start, out.writerIndex() - start);
    }

    static Map<String, String> readParameters(MessageReader reader, int protocolVersion) {
        Map<String, String> parameters = new LinkedHashMap<>();
        if (protocolVersion >>> 16 != 3) {
            // Other major versions have other layouts (v2 used fixed-size fields); the caller will only need the
            // version to reject them, so a layout we cannot read is not an error here.
            try {
                readPairs(reader, parameters);
            } catch (ProtocolException unreadable) {
                parameters.clear();
            }
            return parameters;
        }
        readPairs(reader, parameters);
        return parameters;
    }

    private static void readPairs(MessageReader reader, Map<String, String> parameters) {
        while (true) {
            String name = reader.readCString();
            if (name.isEmpty()) {
                reader.expectEnd();
                return;
            }
            parameters.put(name, reader.readCString());
        }
    }
}
