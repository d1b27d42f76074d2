package io.pgwarden.it;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A bare protocol client for the cases drivers cannot produce, such as vanishing in the middle of a result.
 * Logs in as the cleartext-password user of {@link TestProxy}.
 */
final class RawClient implements AutoCloseable {

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private byte[] cancelKey;
    /** Extended-protocol messages not yet sent. */
    private final java.io.ByteArrayOutputStream batch = new java.io.ByteArrayOutputStream();

    RawClient(int port) throws IOException {
        this(port, 0, 10_000, "trust-secret", "user", "trustuser", "database", "appdb");
    }

    /**
     * Logs in with the {@code startup} parameters (name, value, ...), answering the request for a cleartext
     * password with {@code password}.
     *
     * @param receiveBuffer the socket's receive buffer, or 0 for the system's
     */
    RawClient(int port, int receiveBuffer, int readTimeoutMillis, String password, String... startup)
            throws IOException {
        this(connect(port, receiveBuffer), readTimeoutMillis, password, startup);
    }

    /** Logs in over {@code socket}, already connected (and, for TLS tests, encrypted). */
    RawClient(Socket socket, int readTimeoutMillis, String password, String... startup) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(readTimeoutMillis);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
        StartupPacket.send(out, 3 << 16, startup);
        expect('R');
        message('p', cString(password));
        char type;
        while ((type = (char) in.readByte()) != 'Z') {
            // AuthenticationOk, ParameterStatus, BackendKeyData
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            if (type == 'K') {
                cancelKey = body;
            }
        }
        in.readNBytes(in.readInt() - 4);
    }

    private static Socket connect(int port, int receiveBuffer) throws IOException {
        Socket socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        return socket;
    }

    /** The CancelRequest packet for this client, with the key its BackendKeyData gave. */
    byte[] cancelRequest() {
        java.nio.ByteBuffer packet = java.nio.ByteBuffer.allocate(16).putInt(16).putInt(80877102).put(cancelKey);
        return packet.array();
    }

    void query(String sql) throws IOException {
        message('Q', cString(sql));
    }

    /** Writes {@code raw} as it is, in one write: for bytes no well-behaved client would send. */
    void send(byte[] raw) throws IOException {
        out.write(raw);
        out.flush();
    }

    /** The socket's output, for a message written piece by piece (flush when done). */
    java.io.OutputStream output() {
        return out;
    }

    /** The socket's input, for a message read piece by piece. */
    DataInputStream input() {
        return in;
    }

    /** Ends the session as a well-behaved client does. */
    void terminate() throws IOException {
        message('X', new byte[0]);
    }

    void copyData(byte[] data) throws IOException {
        message('d', data);
    }

    /** Reads messages until one of type {@code type}; returns its body. Another ErrorResponse fails. */
    byte[] expect(char type) throws IOException {
        while (true) {
            char t = (char) in.readByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            if (t == type) {
                return body;
            }
            if (t == 'E') {
                throw new IOException("server error: " + new String(body, StandardCharsets.UTF_8));
            }
        }
    }

    /** Reads messages until one of type {@code type}, any ErrorResponse included; returns its body. */
    byte[] expectAny(char type) throws IOException {
        while (true) {
            char t = (char) in.readByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            if (t == type) {
                return body;
            }
        }
    }

    /**
     * Reads up to and including the next ReadyForQuery, or to the connection's end: the message types separated by
     * spaces, an ErrorResponse as {@code E(SEVERITY SQLSTATE message)}, a DataRow as {@code D(first value)}, the end
     * as {@code EOF}. Times out (an exception) when nothing ends the answer.
     */
    String untilReady() throws IOException {
        StringBuilder seen = new StringBuilder();
        while (true) {
            int t = in.read();
            if (t == -1) {
                return seen.append("EOF").toString();
            }
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            seen.append((char) t);
            if (t == 'E') {
                java.util.Map<Character, String> f = new java.util.HashMap<>();
                for (int at = 0; at < body.length && body[at] != 0; ) {
                    int end = at + 1;
                    while (body[end] != 0) {
                        end++;
                    }
                    f.put((char) body[at], new String(body, at + 1, end - at - 1, StandardCharsets.UTF_8));
                    at = end + 1;
                }
                seen.append('(').append(f.get('S')).append(' ').append(f.get('C')).append(' ').append(f.get('M'))
                        .append(')');
            } else if (t == 'D') {
                java.nio.ByteBuffer row = java.nio.ByteBuffer.wrap(body);
                row.getShort();
                int length = row.getInt();
                seen.append('(').append(length < 0 ? "null" : new String(body, 6, length, StandardCharsets.UTF_8))
                        .append(')');
            }
            if (t == 'Z') {
                return seen.toString();
            }
            seen.append(' ');
        }
    }

    /** Writes one message of type {@code type} with {@code body}. */
    void message(char type, String body) throws IOException {
        message(type, body == null ? new byte[0] : cString(body));
    }

    /** Reads whatever else comes; true when the proxy then closes the connection (false: the read timed out). */
    boolean drainToEnd() throws IOException {
        try {
            while (in.read() != -1) {
                // skip
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        }
    }

    /** Reads at least {@code bytes} raw bytes of whatever comes. */
    void readSome(int bytes) throws IOException {
        in.readNBytes(bytes);
    }

    /** True when the proxy has closed the connection and nothing more is to be read. */
    boolean atEnd() throws IOException {
        return in.read() == -1;
    }

    /** One message from the proxy. */
    record Message(char type, byte[] body) {
        /** The value of field {@code code} of an ErrorResponse or NoticeResponse, or null. */
        String field(char code) {
            int i = 0;
            while (i < body.length && body[i] != 0) {
                int end = i + 1;
                while (body[end] != 0) {
                    end++;
                }
                if (body[i] == code) {
                    return new String(body, i + 1, end - i - 1, StandardCharsets.UTF_8);
                }
                i = end + 1;
            }
            return null;
        }
    }

    /** Reads the next message, whatever it is. */
    Message next() throws IOException {
        char t = (char) in.readByte();
        byte[] body = new byte[in.readInt() - 4];
        in.readFully(body);
        return new Message(t, body);
    }

    /** Parse of {@code sql} (no parameter types given) as statement {@code name}; sent with the next Sync. */
    void parse(String name, String sql) {
        byte[] n = cString(name);
        byte[] q = cString(sql);
        batch('P', java.nio.ByteBuffer.allocate(n.length + q.length + 2).put(n).put(q).putShort((short) 0).array());
    }

    /** Bind of statement {@code name} to the unnamed portal, without parameters, then Execute of it. */
    void bindExecute(String name) {
        byte[] n = cString(name);
        batch('B', java.nio.ByteBuffer.allocate(1 + n.length + 6).put((byte) 0).put(n).putShort((short) 0)
                .putShort((short) 0).putShort((short) 0).array());
        batch('E', new byte[] {0, 0, 0, 0, 0});
    }

    /** Close of statement {@code name}. */
    void closeStatement(String name) {
        byte[] n = cString(name);
        batch('C', java.nio.ByteBuffer.allocate(1 + n.length).put((byte) 'S').put(n).array());
    }

    /** Sync, sent with what was batched in one write, as drivers send a pipeline. */
    void sync() throws IOException {
        batch('S', new byte[0]);
        out.write(batch.toByteArray());
        out.flush();
        batch.reset();
    }

    private void batch(char type, byte[] body) {
        batch.write(type);
        batch.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(4 + body.length).array());
        batch.writeBytes(body);
    }

    private void message(char type, byte[] body) throws IOException {
        out.writeByte(type);
        out.writeInt(4 + body.length);
        out.write(body);
        out.flush();
    }

    private static byte[] cString(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        byte[] withNul = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, withNul, 0, bytes.length);
        return withNul;
    }

    /** Drops the connection without Terminate, as a crashed process would. */
    @Override
    public void close() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }
}
