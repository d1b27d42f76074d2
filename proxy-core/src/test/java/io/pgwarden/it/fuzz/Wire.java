package io.pgwarden.it.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Frontend messages as bytes on the wire, valid ones only: the mutators make them otherwise. */
final class Wire {

    static final int SSL_REQUEST_CODE = 80877103;
    static final int GSSENC_REQUEST_CODE = 80877104;
    static final int CANCEL_REQUEST_CODE = 80877102;

    private Wire() {
    }

    static byte[] startup(int version, String... keyValues) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (String s : keyValues) {
            body.writeBytes(cString(s));
        }
        body.write(0);
        return ByteBuffer.allocate(8 + body.size()).putInt(8 + body.size()).putInt(version).put(body.toByteArray())
                .array();
    }

    static byte[] request(int code) {
        return ByteBuffer.allocate(8).putInt(8).putInt(code).array();
    }

    static byte[] cancel(int pid, int key) {
        return ByteBuffer.allocate(16).putInt(16).putInt(CANCEL_REQUEST_CODE).putInt(pid).putInt(key).array();
    }

    static byte[] password(String text) {
        return message('p', cString(text));
    }

    static byte[] saslInitial(String mechanism, byte[] data) {
        byte[] name = cString(mechanism);
        return message('p', ByteBuffer.allocate(name.length + 4 + data.length).put(name).putInt(data.length)
                .put(data).array());
    }

    static byte[] saslResponse(byte[] data) {
        return message('p', data);
    }

    static byte[] query(String sql) {
        return message('Q', cString(sql));
    }

    static byte[] parse(String statement, String sql, int... paramTypes) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(cString(statement));
        body.writeBytes(cString(sql));
        body.writeBytes(shorts(paramTypes.length));
        for (int type : paramTypes) {
            body.writeBytes(ByteBuffer.allocate(4).putInt(type).array());
        }
        return message('P', body.toByteArray());
    }

    /** Text parameters (null for SQL NULL), all results in {@code resultFormat} (0 text, 1 binary). */
    static byte[] bind(String portal, String statement, String[] params, int resultFormat) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(cString(portal));
        body.writeBytes(cString(statement));
        body.writeBytes(shorts(0));
        body.writeBytes(shorts(params.length));
        for (String p : params) {
            if (p == null) {
                body.writeBytes(ByteBuffer.allocate(4).putInt(-1).array());
            } else {
                byte[] value = p.getBytes(StandardCharsets.UTF_8);
                body.writeBytes(ByteBuffer.allocate(4).putInt(value.length).array());
                body.writeBytes(value);
            }
        }
        body.writeBytes(shorts(1, resultFormat));
        return message('B', body.toByteArray());
    }

    static byte[] describe(char kind, String name) {
        return message('D', concat(new byte[] {(byte) kind}, cString(name)));
    }

    static byte[] execute(String portal, int maxRows) {
        return message('E', concat(cString(portal), ByteBuffer.allocate(4).putInt(maxRows).array()));
    }

    static byte[] close(char kind, String name) {
        return message('C', concat(new byte[] {(byte) kind}, cString(name)));
    }

    static byte[] sync() {
        return message('S', new byte[0]);
    }

    static byte[] flush() {
        return message('H', new byte[0]);
    }

    static byte[] copyData(byte[] data) {
        return message('d', data);
    }

    static byte[] copyDone() {
        return message('c', new byte[0]);
    }

    static byte[] copyFail(String why) {
        return message('f', cString(why));
    }

    /** FunctionCall of {@code oid} with one text argument and a text result. */
    static byte[] functionCall(int oid, String argument) {
        byte[] value = argument.getBytes(StandardCharsets.UTF_8);
        return message('F', ByteBuffer.allocate(4 + 2 + 2 + 4 + value.length + 2).putInt(oid).putShort((short) 0)
                .putShort((short) 1).putInt(value.length).put(value).putShort((short) 0).array());
    }

    static byte[] terminate() {
        return message('X', new byte[0]);
    }

    static byte[] message(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    static byte[] cString(String s) {
        return concat(s.getBytes(StandardCharsets.UTF_8), new byte[1]);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static byte[] shorts(int... values) {
        ByteBuffer buffer = ByteBuffer.allocate(2 * values.length);
        for (int v : values) {
            buffer.putShort((short) v);
        }
        return buffer.array();
    }

    static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return sb.toString();
    }
}
