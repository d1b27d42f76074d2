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
