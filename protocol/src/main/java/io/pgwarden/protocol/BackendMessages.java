package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Encoders for what the proxy itself sends to clients. Each appends one whole message at out's writerIndex. */
public final class BackendMessages {

    private static final int TEXT_TYPE_OID = 25;
    private static final short VARIABLE_LENGTH = -1;
    private static final int NO_TYPE_MODIFIER = -1;
    private static final short TEXT_FORMAT = 0;

    private BackendMessages() {
    }

    public static void authenticationOk(ByteBuf out) {
        authentication(out, AuthenticationRequest.OK);
    }

    public static void authenticationCleartextPassword(ByteBuf out) {
        authentication(out, AuthenticationRequest.CLEARTEXT_PASSWORD);
    }

    public static void authenticationMd5Password(ByteBuf out, byte[] salt4) {
        if (salt4.length != 4) {
            throw new IllegalArgumentException("MD5 salt must be 4 bytes, got " + salt4.length);
        }
        int lengthIndex = MessageWriter.begin(out, Tags.Backend.AUTHENTICATION);
        out.writeInt(AuthenticationRequest.MD5_PASSWORD);
        out.writeBytes(salt4);
        MessageWriter.end(out, lengthIndex);
    }

    public static void authenticationSasl(ByteBuf out, List<String> mechanisms) {
        int lengthIndex = MessageWriter.begin(out, Tags.Backend.AUTHENTICATION);
        out.writeInt(AuthenticationRequest.SASL);
        for (String mechanism : mechanisms) {
            MessageWriter.cString(out, mechanism);
        }
        out.writeByte(0);
        MessageWriter.end(out, lengthIndex);
    }

    public static void authenticationSaslContinue(ByteBuf out, byte[] data) {
        authentication(out, AuthenticationRequest.SASL_CONTINUE, data);
    }

    public static void authenticationSaslFinal(ByteBuf out, byte[] data) {
        authentication(out, AuthenticationRequest.SASL_FINAL, data);
    }

    public static void parameterStatus(ByteBuf out, String name, String value) {
        int lengthIndex = MessageWriter.begin(out, Tags.Backend.PARAMETER_STATUS);
        MessageWriter.cString(out, name);
        MessageWriter.cString(out, value);
        MessageWriter.end(out, lengthIndex);
    }

    public static void backendKeyData(ByteBuf out, int processId, int secretKey) {
        out.writeByte(Tags.Backend.BACKEND_KEY_DATA);
        out.writeInt(12);
        out.writeInt(processId);
        out.writeInt(secretKey);
    }

    /** @param status 'I' (idle), 'T' (in a transaction) or 'E' (in a failed transaction) */
    public static void readyForQuery(ByteBuf out, byte status) {
        if (status != 'I' && status != 'T' && status != 'E') {
            throw new IllegalArgumentException("invalid transaction status " + (status & 0xff));
        }
        out.writeByte(Tags.Backend.READY_FOR_QUERY);
        out.writeInt(5);
        out.writeByte(status);
    }

    public static void commandComplete(ByteBuf out, String tag) {
        int lengthIndex = MessageWriter.begin(out, Tags.Backend.COMMAND_COMPLETE);
        MessageWriter.cString(out, tag);
        MessageWriter.end(out, lengthIndex);
    }

    public static void emptyQueryResponse(ByteBuf out) {
        MessageWriter.empty(out, Tags.Backend.EMPTY_QUERY_RESPONSE);
    }

    /** Describes text columns not backed by a table, which is all the proxy's own SHOW-style commands need. */
    public static void rowDescription(ByteBuf out, List<String> columnNames) {
        int lengthIndex = MessageWriter.begin(out, Tags.Backend.ROW_DESCRIPTION);
        out.writeShort(fieldCount(columnNames.size()));
        for (String name : columnNames) {
            MessageWriter.cString(out, name);
            out.writeInt(0); // table OID: not a table column
            out.writeShort(0); // attribute number: not a table column
            out.writeInt(TEXT_TYPE_OID);
            out.writeShort(VARIABLE_LENGTH);
            out.writeInt(NO_TYPE_MODIFIER);
            out.writeShort(TEXT_FORMAT);
        }
        MessageWriter.end(out, lengthIndex);
    }

    /** @param values text values; a null element is sent as SQL NULL (length -1) */
    public static void dataRow(ByteBuf out, List<String> values) {
        int lengthIndex = MessageWriter.begin(out, Tags.Backend.DATA_ROW);
        out.writeShort(fieldCount(values.size()));
        for (String value : values) {
            if (value == null) {
                out.writeInt(-1);
            } else {
                int valueLengthIndex = out.writerIndex();
                out.writeInt(0);
                int written = out.writeCharSequence(value, StandardCharsets.UTF_8);
                out.setInt(valueLengthIndex, written);
            }
        }
        MessageWriter.end(out, lengthIndex);
    }

    /**
     * @param newestMinor the newest minor version of protocol 3 the proxy supports. On the wire PostgreSQL sends the
     *     whole version number (major in the high 16 bits) and libpq compares it as such, so that is what is written.
     */
    public static void negotiateProtocolVersion(ByteBuf out, int newestMinor, List<String> unrecognizedOptions) {
        if (newestMinor < 0 || newestMinor > 0xffff) {
            throw new IllegalArgumentException("invalid minor version " + newestMinor);
        }
        int lengthIndex = MessageWriter.begin(out, Tags.Backend.NEGOTIATE_PROTOCOL_VERSION);
        out.writeInt(StartupMessage.PROTOCOL_VERSION_3_0 | newestMinor);
        out.writeInt(unrecognizedOptions.size());
        for (String option : unrecognizedOptions) {
            MessageWriter.cString(out, option);
        }
        MessageWriter.end(out, lengthIndex);
    }

    private static void authentication(ByteBuf out, int type) {
        out.writeByte(Tags.Backend.AUTHENTICATION);
        out.writeInt(8);
        out.writeInt(type);
    }

    private static void authentication(ByteBuf out, int type, byte[] data) {
        int lengthIndex = MessageWriter.begin(out, Tags.Backend.AUTHENTICATION);
        out.writeInt(type);
        out.writeBytes(data);
        MessageWriter.end(out, lengthIndex);
    }

    private static int fieldCount(int count) {
        if (count > Short.MAX_VALUE) {
            throw new IllegalArgumentException("too many fields: " + count);
        }
        return count;
    }
}
