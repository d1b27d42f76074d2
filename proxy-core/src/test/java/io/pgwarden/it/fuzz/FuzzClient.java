package io.pgwarden.it.fuzz;

import io.pgwarden.protocol.auth.AuthenticationException;
import io.pgwarden.protocol.auth.Md5Password;
import io.pgwarden.protocol.auth.ScramClientLogin;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Plays one {@link FuzzCase} against the proxy over a loopback socket: logs in as far as the case lets it, writes
 * the rest, reads whatever comes back until the proxy closes or falls silent, and closes. The proxy's answers are
 * not judged here (the checks watch the proxy itself), except that what it sends must stay framed.
 */
final class FuzzClient {

    /** Silence after which the proxy is taken to be waiting for more of a broken message. */
    private static final int SILENCE_MILLIS = 60;
    private static final long CASE_DEADLINE_NANOS = 5_000_000_000L;
    private static final int MAX_REPLY_LENGTH = 1 << 24;

    /** What one run wrote and saw: the written bytes, in hex, are what a failing case prints. */
    static final class Outcome {
        final ByteArrayOutputStream written = new ByteArrayOutputStream();
        final List<String> notes = java.util.Collections.synchronizedList(new ArrayList<>());
        volatile boolean loggedIn;
        /** A reply no PostgreSQL would send: a fault in the proxy, unlike anything else a case can cause. */
        volatile String malformedReply;

        @Override
        public String toString() {
            String said;
            synchronized (notes) {
                said = notes.isEmpty() ? "" : ", " + String.join("; ", notes);
            }
            return (loggedIn ? "logged in" : "not logged in") + said
                    + "\n  bytes written: " + Wire.hex(written.toByteArray());
        }
    }

    private final int port;

    FuzzClient(int port) {
        this.port = port;
    }

    /** Plays {@code c}, recording into {@code outcome} as it goes (another thread may read it meanwhile). */
    void run(FuzzCase c, Outcome outcome) throws ConnectException {
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(SILENCE_MILLIS);
            Conversation talk = new Conversation(c, socket, outcome);
            talk.play();
        } catch (ConnectException e) {
            throw e;
        } catch (IOException e) {
            // The proxy closed or reset the connection: expected for most broken input.
            outcome.notes.add(e.getClass().getSimpleName());
        }
    }

    private static final class Conversation {
        private final FuzzCase c;
        private final Socket socket;
        private final DataInputStream in;
        private final OutputStream out;
        private final Outcome outcome;
        private final Mutator mutator;
        private final SplittableRandom startupRandom;
        private final long deadline = System.nanoTime() + CASE_DEADLINE_NANOS;
        private int step;
        private boolean closed;
        /** Once a login write was broken the proxy may rightly wait for bytes that never come. */
        private boolean broken;

        Conversation(FuzzCase c, Socket socket, Outcome outcome) throws IOException {
            this.c = c;
            this.socket = socket;
            this.in = new DataInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
            this.outcome = outcome;
            this.startupRandom = new SplittableRandom(c.startupSeed());
            this.mutator = new Mutator(startupRandom, outcome.notes);
        }

        void play() throws IOException {
            switch (c.kind()) {
                case CANCEL -> {
                    write(Wire.cancel(startupRandom.nextInt(), startupRandom.nextInt()));
                    drain();
                }
                case GARBAGE -> {
                    writeStream();
                    drain();
                }
                default -> {
                    for (byte[] packet : c.login().preamble()) {
                        if (!loginWrite(packet)) {
                            return;
                        }
                        int answer = readByteUntilDeadline();
                        if (answer != 'N') {
                            outcome.notes.add("preamble answered " + answer);
                            drain();
                            return;
                        }
                    }
                    if (loginWrite(c.login().startup()) && authenticate()) {
                        outcome.loggedIn = true;
                        writeStream();
                    }
                    drain();
                }
            }
        }

        /** Answers the proxy's authentication requests until ReadyForQuery (true) or anything else (false). */
        private boolean authenticate() throws IOException {
            ScramClientLogin scram = null;
            while (true) {
                Message m = readMessage();
                if (m == null) {
                    return false;
                }
                switch (m.type) {
                    case 'R' -> {
                        ByteBuffer body = ByteBuffer.wrap(m.body);
                        int code = body.remaining() >= 4 ? body.getInt() : -1;
                        String password = c.login().account().password();
                        String user = c.login().account().user();
                        byte[] reply;
                        try {
                            reply = switch (code) {
                                case 0, 12 -> null;
                                case 3 -> Wire.password(password);
                                case 5 -> {
                                    byte[] salt = Arrays.copyOfRange(m.body, 4, 8);
                                    yield Wire.password(Md5Password.encode(user, password, salt));
                                }
                                case 10 -> {
                                    scram = new ScramClientLogin(user, password, mechanisms(m.body));
                                    yield Wire.saslInitial(scram.mechanism(), scram.clientFirstMessage());
                                }
                                case 11 -> {
                                    if (scram == null) {
                                        outcome.malformedReply = "SASLContinue before AuthenticationSASL";
                                        yield null;
                                    }
                                    yield Wire.saslResponse(scram.handleServerFirst(
                                            Arrays.copyOfRange(m.body, 4, m.body.length)));
                                }
                                default -> {
                                    outcome.malformedReply = "authentication request " + code;
                                    yield null;
                                }
                            };
                        } catch (AuthenticationException e) {
                            // Our own broken SASLInitialResponse can make the proxy's answer unusable.
                            outcome.notes.add("SCRAM: " + e.getMessage());
                            return false;
                        }
                        if (outcome.malformedReply != null) {
                            return false;
                        }
                        if (reply != null && !loginWrite(reply)) {
                            return false;
                        }
                    }
                    case 'Z' -> {
                        return true;
                    }
                    case 'E' -> {
                        outcome.notes.add("login refused: " + errorText(m.body));
                        return false;
                    }
                    case 'S', 'K', 'N', 'v' -> {
                        // ParameterStatus, BackendKeyData, NoticeResponse, NegotiateProtocolVersion
                    }
                    default -> {
                        outcome.malformedReply = "message type " + (int) m.type + " during login";
                        return false;
                    }
                }
            }
        }

        /** Writes one login step, broken if it is the case's victim; false when the case closes there. */
        private boolean loginWrite(byte[] bytes) throws IOException {
            int current = step++;
            if (current != c.victimStep()) {
                write(bytes);
                return true;
            }
            broken = true;
            byte[] mutated = mutator.mutateOne(bytes, "login write " + current);
            if (c.closeInVictim() && mutated.length > 0) {
                int keep = startupRandom.nextInt(mutated.length);
                outcome.notes.add("close after " + keep + " bytes of it");
                write(Arrays.copyOf(mutated, keep));
                closed = true;
                return false;
            }
            write(mutated);
            return true;
        }

        private void writeStream() throws IOException {
            byte[] stream = c.stream();
            int end = c.closeAt() >= 0 ? c.closeAt() : stream.length;
            int from = 0;
            for (int split : c.splits()) {
                if (split >= end) {
                    break;
                }
                write(Arrays.copyOfRange(stream, from, split));
                from = split;
            }
            write(Arrays.copyOfRange(stream, from, end));
            if (c.closeAt() >= 0) {
                closed = true;
            }
        }

        private void write(byte[] bytes) throws IOException {
            outcome.written.writeBytes(bytes);
            out.write(bytes);
            out.flush();
        }

        /** Reads until the proxy closes, falls silent or the case's time is up. */
        private void drain() throws IOException {
            if (closed) {
                return;
            }
            byte[] buffer = new byte[8192];
            while (System.nanoTime() < deadline) {
                try {
                    if (in.read(buffer) < 0) {
                        outcome.notes.add("closed by the proxy");
                        return;
                    }
                } catch (SocketTimeoutException silent) {
                    return;
                }
            }
            outcome.notes.add("still talking at the case's deadline");
        }

        private int readByteUntilDeadline() throws IOException {
            int silences = 0;
            while (System.nanoTime() < deadline) {
                try {
                    return in.read();
                } catch (SocketTimeoutException silent) {
                    // A slow proxy is not a broken one, unless it is waiting for the rest of our broken write.
                    if (broken && ++silences >= 2) {
                        return -2;
                    }
                }
            }
            return -2;
        }

        private Message readMessage() throws IOException {
            try {
                int type = readByteUntilDeadline();
                if (type < 0) {
                    return null;
                }
                socket.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                int length = in.readInt();
                if (length < 4 || length > MAX_REPLY_LENGTH) {
                    outcome.malformedReply = "length " + length + " of a message of type " + type;
                    return null;
                }
                byte[] body = new byte[length - 4];
                in.readFully(body);
                socket.setSoTimeout(SILENCE_MILLIS);
                return new Message((char) type, body);
            } catch (EOFException | SocketTimeoutException e) {
                outcome.notes.add("reply cut short");
                return null;
            }
        }
    }

    private record Message(char type, byte[] body) {
    }

    private static List<String> mechanisms(byte[] body) {
        List<String> names = new ArrayList<>();
        int at = 4;
        while (at < body.length && body[at] != 0) {
            int end = at;
            while (end < body.length && body[end] != 0) {
                end++;
            }
            names.add(new String(body, at, end - at, StandardCharsets.UTF_8));
            at = end + 1;
        }
        return names;
    }

    private static String errorText(byte[] body) {
        StringBuilder text = new StringBuilder();
        int at = 0;
        while (at < body.length && body[at] != 0) {
            char field = (char) body[at++];
            int end = at;
            while (end < body.length && body[end] != 0) {
                end++;
            }
            if (field == 'C' || field == 'M') {
                text.append(field == 'C' ? "" : " ").append(new String(body, at, end - at, StandardCharsets.UTF_8));
            }
            at = end + 1;
        }
        return text.toString();
    }
}
