package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;

/** Encoders for what the proxy itself sends to PostgreSQL. Each appends one whole message at out's writerIndex. */
public final class FrontendMessages {

    private FrontendMessages() {
    }

    /** A cleartext password or an MD5 response ("md5..."). */
    public static void password(ByteBuf out, String password) {
        int lengthIndex = MessageWriter.begin(out, Tags.Frontend.PASSWORD);
        MessageWriter.cString(out, password);
        MessageWriter.end(out, lengthIndex);
    }

    /** @param data the client-first-message; null is sent as length -1 (no initial response) */
    public static void saslInitialResponse(ByteBuf out, String mechanism, byte[] data) {
        int lengthIndex = MessageWriter.begin(out, Tags.Frontend.PASSWORD);
        MessageWriter.cString(out, mechanism);
        if (data == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(data.length);
            out.writeBytes(data);
        }
        MessageWriter.end(out, lengthIndex);
    }

    public static void saslResponse(ByteBuf out, byte[] data) {
        int lengthIndex = MessageWriter.begin(out, Tags.Frontend.PASSWORD);
        out.writeBytes(data);
        MessageWriter.end(out, lengthIndex);
    }

    public static void query(ByteBuf out, String sql) {
        int lengthIndex = MessageWriter.begin(out, Tags.Frontend.QUERY);
        MessageWriter.cString(out, sql);
        MessageWriter.end(out, lengthIndex);
    }

    /** Ends COPY FROM STDIN with an error; PostgreSQL reports {@code reason} as "COPY from stdin failed: ...". */
    public static void copyFail(ByteBuf out, String reason) {
        int lengthIndex = MessageWriter.begin(out, Tags.Frontend.COPY_FAIL);
        MessageWriter.cString(out, reason);
        MessageWriter.end(out, lengthIndex);
    }

    public static void sync(ByteBuf out) {
        MessageWriter.empty(out, Tags.Frontend.SYNC);
    }

    public static void terminate(ByteBuf out) {
        MessageWriter.empty(out, Tags.Frontend.TERMINATE);
    }

    /** Parse of the unnamed statement, its parameter types left for PostgreSQL to infer. */
    public static void parse(ByteBuf out, String sql) {
        int lengthIndex = MessageWriter.begin(out, Tags.Frontend.PARSE);
        MessageWriter.cString(out, "");
        MessageWriter.cString(out, sql);
        out.writeShort(0);
        MessageWriter.end(out, lengthIndex);
    }

    /** Bind of the unnamed statement to the unnamed portal: text parameters (null for SQL NULL), text results. */
    public static void bind(ByteBuf out, java.util.List<String> parameters) {
        int lengthIndex = MessageWriter.begin(out, Tags.Frontend.BIND);
        MessageWriter.cString(out, "");
        MessageWriter.cString(out, "");
        out.writeShort(0);
        out.writeShort(parameters.size());
        for (String value : parameters) {
            if (value == null) {
                out.writeInt(-1);
            } else {
                byte[] bytes = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                out.writeInt(bytes.length);
                out.writeBytes(bytes);
            }
        }
        out.writeShort(0);
        MessageWriter.end(out, lengthIndex);
    }

    /** Execute of the unnamed portal; {@code maxRows} 0 for all. */
    public static void execute(ByteBuf out, int maxRows) {
        int lengthIndex = MessageWriter.begin(out, Tags.Frontend.EXECUTE);
        MessageWriter.cString(out, "");
        out.writeInt(maxRows);
        MessageWriter.end(out, lengthIndex);
    }
}
