package io.pgwarden.harness;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgwarden.protocol.AuthenticationRequest;
import io.pgwarden.protocol.BackendMessages;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.FrontendMessages;
import io.pgwarden.protocol.ParameterStatus;
import io.pgwarden.protocol.ResultMessages;
import io.pgwarden.protocol.StartupMessage;
import io.pgwarden.protocol.Tags;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Protocol messages as the tests write and read them: plain byte arrays built with pgwarden's own encoders (so a
 * test owns no buffer), and one-line descriptions such as {@code ReadyForQuery(I)} or
 * {@code ErrorResponse(ERROR 08006: ...)}, which make a conversation assertable as a list of strings.
 */
public final class Wire {

    private Wire() {
    }

    // ---- what a client sends --------------------------------------------------------------------

    public static byte[] startup(Map<String, String> parameters) {
        return encode(out -> new StartupMessage(StartupMessage.PROTOCOL_VERSION_3_0, parameters).encode(out));
    }

    public static byte[] password(String password) {
        return encode(out -> FrontendMessages.password(out, password));
    }

    public static byte[] query(String sql) {
        return encode(out -> FrontendMessages.query(out, sql));
    }

    public static byte[] terminate() {
        return encode(FrontendMessages::terminate);
    }

    // ---- what a backend sends -------------------------------------------------------------------

    public static byte[] authenticationOk() {
        return encode(BackendMessages::authenticationOk);
    }

    public static byte[] parameterStatus(String name, String value) {
        return encode(out -> BackendMessages.parameterStatus(out, name, value));
    }

    public static byte[] backendKeyData(int processId, int secretKey) {
        return encode(out -> BackendMessages.backendKeyData(out, processId, secretKey));
    }

    /** @param status 'I', 'T' or 'E' */
    public static byte[] readyForQuery(char status) {
        return encode(out -> BackendMessages.readyForQuery(out, (byte) status));
    }

    public static byte[] commandComplete(String tag) {
        return encode(out -> BackendMessages.commandComplete(out, tag));
    }

    public static byte[] rowDescription(String... columns) {
        return encode(out -> BackendMessages.rowDescription(out, List.of(columns)));
    }

    public static byte[] dataRow(String... values) {
        return encode(out -> BackendMessages.dataRow(out, Arrays.asList(values)));
    }

    /** A one-row, one-column result of a simple query, ending in ReadyForQuery with {@code status}. */
    public static byte[] oneRow(String column, String value, char status) {
        return concat(rowDescription(column), dataRow(value), commandComplete("SELECT 1"), readyForQuery(status));
    }

    public static byte[] error(String sqlstate, String message) {
        return encode(out -> ErrorResponse.error(sqlstate, message).encode(out));
    }

    public static byte[] fatal(String sqlstate, String message) {
        return encode(out -> ErrorResponse.fatal(sqlstate, message).encode(out));
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            all.writeBytes(part);
        }
        return all.toByteArray();
    }

    private static byte[] encode(Consumer<ByteBuf> writer) {
        ByteBuf out = Unpooled.buffer();
        try {
            writer.accept(out);
            byte[] bytes = new byte[out.readableBytes()];
            out.readBytes(bytes);
            return bytes;
        } finally {
            out.release();
        }
    }

    // ---- reading ---------------------------------------------------------------------------------

    /** Cuts a stream of typed messages (tag, int32 length, body) into whole messages; a torn one is a test bug. */
    public static List<byte[]> split(byte[] stream) {
        List<byte[]> messages = new ArrayList<>();
        int at = 0;
        while (at < stream.length) {
            if (stream.length - at < 5) {
                throw new AssertionError("a torn message header at byte " + at);
            }
            int length = ((stream[at + 1] & 0xff) << 24) | ((stream[at + 2] & 0xff) << 16)
                    | ((stream[at + 3] & 0xff) << 8) | (stream[at + 4] & 0xff);
            if (at + 1 + length > stream.length) {
                throw new AssertionError("a torn message at byte " + at);
            }
            messages.add(Arrays.copyOfRange(stream, at, at + 1 + length));
            at += 1 + length;
        }
        return messages;
    }

    /** What the server side says, as a client reads it. */
    public static String describeBackend(byte[] message) {
        ByteBuf m = Unpooled.wrappedBuffer(message);
        try {
            byte tag = m.getByte(0);
            String name = Tags.describeBackend(tag);
            return switch (tag) {
                case Tags.Backend.READY_FOR_QUERY -> name + "(" + (char) m.getByte(5) + ")";
                case Tags.Backend.COMMAND_COMPLETE -> name + "(" + ResultMessages.commandTag(m) + ")";
                case Tags.Backend.DATA_ROW -> name + "(" + String.join(",", ResultMessages.dataRowValues(m)) + ")";
                case Tags.Backend.ERROR_RESPONSE, Tags.Backend.NOTICE_RESPONSE -> {
                    ErrorResponse e = ErrorResponse.decode(m);
                    yield name + "(" + e.severity() + " " + e.sqlstate() + ": " + e.message() + ")";
                }
                case Tags.Backend.PARAMETER_STATUS -> {
                    ParameterStatus.Entry entry = ParameterStatus.decode(m);
                    yield name + "(" + entry.name() + "=" + entry.value() + ")";
                }
                case Tags.Backend.AUTHENTICATION -> name + "(" + AuthenticationRequest.decode(m).type() + ")";
                default -> name;
            };
        } finally {
            m.release();
        }
    }

    /** What the client side says, as a backend reads it. */
    public static String describeFrontend(byte[] message) {
        byte tag = message[0];
        String name = Tags.describeFrontend(tag);
        if (tag == Tags.Frontend.QUERY) {
            return name + "(" + new String(message, 5, message.length - 6, StandardCharsets.UTF_8) + ")";
        }
        return name;
    }
}
