package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 14, bugs 1 and 2: after login, a message type PostgreSQL does not take, or a Parse, Bind, Describe or Close
 * it could not read, ends its sender with FATAL 08P01 and is never forwarded; the backend the pool of one shares
 * with the next client stays and serves it.
 */
class InvalidFrontendMessagesTest {

    private static final byte[] SYNC = {'S', 0, 0, 0, 4};

    static Stream<Arguments> cases() {
        Object[][] bad = {
            {"z", bytes(0x7a, 0, 0, 0, 4), "invalid frontend message type 122"},
            {"0x01", bytes(0x01, 0, 0, 0, 4), "invalid frontend message type 1"},
            {"SASLResponse after login", bytes('p', 0, 0, 0, 8, 'a', 'b', 'c', 0), "invalid frontend message type 112"},
            {"empty Parse, Sync", bytes(0x50, 0, 0, 0, 4, 0x53, 0, 0, 0, 4), "invalid string in message"},
            {"empty Bind, Sync", concat(bytes('B', 0, 0, 0, 4), SYNC), "invalid string in message"},
            {"empty Describe, Sync", concat(bytes('D', 0, 0, 0, 4), SYNC), "no data left in message"},
            {"empty Close, Sync", concat(bytes('C', 0, 0, 0, 4), SYNC), "no data left in message"},
            {"Describe with an unterminated name", bytes(0x44, 0, 0, 0, 8, 0x53, 0x61, 0x62, 0x63),
                    "invalid string in message"},
            {"named Parse, then a Bind with a parameter past the end", concat(
                    parse("s1", "select $1::text"), bytes('B', 0, 0, 0, 20, 0, 's', '1', 0, 0, 0, 0, 1, 0, 0, 0x10,
                            0, 'x', 0, 0), SYNC), "insufficient data left in message"},
        };
        return Stream.of("transaction", "session").flatMap(mode -> Stream.of(bad)
                .map(c -> Arguments.of(mode, c[0], c[1], c[2])));
    }

    @ParameterizedTest(name = "{0} mode: {1}")
    @MethodSource("cases")
    void theSenderGetsFatal08P01AndTheSharedBackendKeepsServing(String mode, String name, byte[] bytes,
            String message) throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode + "\nmax_size: 1")) {
            int backend = backendPidOfAControlClient(proxy);
            try (RawClient sender = new RawClient(proxy.port())) {
                // Behind a query in the same write, as the issue found it: the query's backend is the next client's.
                sender.send(concat(query("select 1"), bytes));
                Map<Character, String> error = fields(sender.expectAny('E'));
                assertThat(error).containsEntry('S', "FATAL").containsEntry('C', "08P01").containsEntry('M', message);
                assertThat(sender.drainToEnd()).as("the sender's connection is closed").isTrue();
            }
            assertThat(backendPidOfAControlClient(proxy)).as("the same backend serves the next client")
                    .isEqualTo(backend);
        }
    }

    @ParameterizedTest(name = "{0} mode")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"transaction", "session"})
    void anUnknownTypeBehindALongQueryDoesNotReachTheNextClient(String mode) throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode + "\nmax_size: 1")) {
            int backend = backendPidOfAControlClient(proxy);
            for (int round = 0; round < 3; round++) {
                try (RawClient sender = new RawClient(proxy.port())) {
                    sender.send(concat(query("select pg_sleep(0.2)"), bytes(0x7a, 0, 0, 0, 4)));
                    assertThat(fields(sender.expectAny('E'))).containsEntry('C', "08P01")
                            .containsEntry('M', "invalid frontend message type 122");
                    assertThat(sender.drainToEnd()).isTrue();
                }
                assertThat(backendPidOfAControlClient(proxy)).isEqualTo(backend);
            }
        }
    }

    /** The pid of the backend a fresh client is served by; the client asks twice and leaves with Terminate. */
    private static int backendPidOfAControlClient(TestProxy proxy) throws IOException {
        try (RawClient control = new RawClient(proxy.port())) {
            int pid = pid(control);
            assertThat(pid(control)).isEqualTo(pid);
            control.terminate();
            assertThat(control.drainToEnd()).isTrue();
            return pid;
        }
    }

    private static int pid(RawClient client) throws IOException {
        client.query("select pg_backend_pid()");
        ByteBuffer row = ByteBuffer.wrap(client.expect('D'));
        row.getShort();
        byte[] value = new byte[row.getInt()];
        row.get(value);
        client.expect('Z');
        return Integer.parseInt(new String(value, StandardCharsets.US_ASCII));
    }

    private static Map<Character, String> fields(byte[] errorBody) {
        Map<Character, String> fields = new HashMap<>();
        int at = 0;
        while (at < errorBody.length && errorBody[at] != 0) {
            char code = (char) errorBody[at++];
            int end = at;
            while (errorBody[end] != 0) {
                end++;
            }
            fields.put(code, new String(errorBody, at, end - at, StandardCharsets.UTF_8));
            at = end + 1;
        }
        return fields;
    }

    private static byte[] query(String sql) {
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + 4 + text.length + 1).put((byte) 'Q').putInt(4 + text.length + 1).put(text)
                .put((byte) 0).array();
    }

    private static byte[] parse(String statement, String sql) {
        byte[] name = statement.getBytes(StandardCharsets.UTF_8);
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        int length = 4 + name.length + 1 + text.length + 1 + 2;
        return ByteBuffer.allocate(1 + length).put((byte) 'P').putInt(length).put(name).put((byte) 0).put(text)
                .put((byte) 0).putShort((short) 0).array();
    }

    private static byte[] bytes(int... values) {
        byte[] raw = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            raw[i] = (byte) values[i];
        }
        return raw;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
