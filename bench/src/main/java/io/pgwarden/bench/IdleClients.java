package io.pgwarden.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Thousands of logged-in clients that then do nothing, as a fleet of application pools holding connections
 * open. Raw sockets and MD5 keep the harness itself light: a JDBC connection per client would cost the harness
 * far more than it costs the proxy, and SCRAM's 4,096 iterations per login would make opening them the run.
 */
final class IdleClients implements AutoCloseable {

    /** A role used only by the idle clients: MD5 in pgwarden's config, so that 10,000 logins take seconds. */
    static final String USER = "idler";
    static final String PASSWORD = "idler";

    private final List<Socket> sockets = new ArrayList<>();

    private IdleClients() {
    }

    /** Opens {@code count} clients on {@code threads} threads; each has seen ReadyForQuery when this returns. */
    static IdleClients open(int port, String database, int count, int threads) throws Exception {
        IdleClients clients = new IdleClients();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<Socket>>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int share = count / threads + (t < count % threads ? 1 : 0);
                parts.add(pool.submit(() -> {
                    List<Socket> mine = new ArrayList<>(share);
                    try {
                        for (int i = 0; i < share; i++) {
                            mine.add(login(port, database));
                        }
                    } catch (IOException | RuntimeException e) {
                        mine.forEach(IdleClients::closeQuietly);
                        throw e;
                    }
                    return mine;
                }));
            }
            Exception failure = null;
            for (Future<List<Socket>> part : parts) {
                try {
                    clients.sockets.addAll(part.get(10, TimeUnit.MINUTES));
                } catch (Exception e) {
                    failure = failure == null ? e : failure;
                }
            }
            if (failure != null) {
                clients.close();
                throw failure;
            }
            return clients;
        } finally {
            pool.shutdownNow();
        }
    }

    int size() {
        return sockets.size();
    }

    /** Clients whose socket the proxy has closed (it should close none). */
    long closedByProxy() {
        long closed = 0;
        for (Socket s : sockets) {
            try {
                s.setSoTimeout(1);
                if (s.getInputStream().read() == -1) {
                    closed++;
                }
            } catch (java.net.SocketTimeoutException stillOpen) {
                // nothing to read, as it should be
            } catch (IOException e) {
                closed++;
            }
        }
        return closed;
    }

    @Override
    public void close() {
        sockets.forEach(IdleClients::closeQuietly);
        sockets.clear();
    }

    /** One client logged in (ReadyForQuery seen), its socket still open. */
    static Socket login(int port, String database) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 30_000);
            socket.setSoTimeout(60_000);
            socket.setTcpNoDelay(true);
            // Buffered, each message flushed whole: a message in two writes stalls on Nagle and delayed ACKs.
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            byte[] params = ("user\0" + USER + "\0database\0" + database + "\0\0").getBytes(StandardCharsets.UTF_8);
            out.writeInt(8 + params.length);
            out.writeInt(196608);
            out.write(params);
            out.flush();
            while (true) {
                byte tag = in.readByte();
                byte[] body = new byte[in.readInt() - 4];
                in.readFully(body);
                if (tag == 'R' && readInt(body, 0) == 5) {
                    byte[] password = (md5Password(Arrays.copyOfRange(body, 4, 8)) + "\0")
                            .getBytes(StandardCharsets.UTF_8);
                    out.writeByte('p');
                    out.writeInt(4 + password.length);
                    out.write(password);
                    out.flush();
                } else if (tag == 'E') {
                    throw new IOException("login refused: " + new String(body, StandardCharsets.UTF_8)
                            .replace('\0', ' ').trim());
                } else if (tag == 'Z') {
                    return socket;
                }
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket);
            throw e;
        }
    }

    /** PostgreSQL's MD5 response: "md5" + md5hex(md5hex(password + user) + salt). */
    private static String md5Password(byte[] salt) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            String inner = HexFormat.of().formatHex(md5.digest((PASSWORD + USER).getBytes(StandardCharsets.UTF_8)));
            md5.update(inner.getBytes(StandardCharsets.UTF_8));
            md5.update(salt);
            return "md5" + HexFormat.of().formatHex(md5.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int readInt(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already gone
        }
    }
}
