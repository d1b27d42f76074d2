package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 14, bug 1 extended: during COPY FROM STDIN only CopyData, CopyDone, CopyFail, Flush and Sync are valid.
 * PostgreSQL answers anything else with ERROR 08P01 and then ends the connection (the message's body is left
 * unread, so it has lost the protocol's framing), and it ignores a Flush or Sync without answering. Forwarded
 * and counted as a request, either would leave pgwarden expecting a ReadyForQuery that never comes, and the next
 * client of the backend would get the previous one's answers.
 */
class CopyInMessagesTest {

    private static final String POOL = "pool_mode: transaction\nmax_size: 1\nquery_wait_timeout: 5s";

    @ParameterizedTest(name = "{0} during COPY")
    @ValueSource(chars = {'Q', 'P', 'B', 'E', 'D', 'C', 'F'})
    void aMessageOtherThanCopyEndsItsSenderAsPostgresDoesAndTheBackendServesTheNextClient(char type)
            throws Exception {
        try (TestProxy proxy = TestProxy.start(POOL)) {
            createTable(proxy, "copy_mid");
            try (RawClient copier = new RawClient(proxy.port()); RawClient next = new RawClient(proxy.port())) {
                copier.query("COPY copy_mid FROM STDIN");
                copier.expect('G');
                copier.copyData("1\n".getBytes(StandardCharsets.UTF_8));
                copier.message(type, type == 'Q' ? "SELECT 1" : "");

                // The ReadyForQuery behind the FATAL is pgwarden's for idle clients (see ClientGoodbye).
                assertThat(copier.untilReady()).isEqualTo("E(ERROR 08P01 unexpected message type 0x%02X during COPY"
                        .formatted((int) type) + " from stdin) E(FATAL 08P01 terminating connection because protocol"
                        + " synchronization was lost) Z");
                assertThat(copier.drainToEnd()).as("the sender's connection is closed").isTrue();

                next.query("SELECT 42");
                assertThat(next.untilReady()).isEqualTo("T D(42) C Z");
                next.query("SELECT 43");
                assertThat(next.untilReady()).as("no ReadyForQuery left over").isEqualTo("T D(43) C Z");
            }
            assertThat(count(proxy, "copy_mid")).as("the COPY was rolled back").isZero();
        }
    }

    @ParameterizedTest(name = "{0} during COPY")
    @ValueSource(chars = {'S', 'H'})
    void aSyncOrFlushDuringCopyIsIgnoredAsPostgresDoes(char type) throws Exception {
        try (TestProxy proxy = TestProxy.start(POOL)) {
            createTable(proxy, "copy_sync");
            try (RawClient copier = new RawClient(proxy.port()); RawClient next = new RawClient(proxy.port())) {
                copier.query("COPY copy_sync FROM STDIN");
                copier.expect('G');
                copier.copyData("1\n".getBytes(StandardCharsets.UTF_8));
                copier.message(type, null);
                copier.copyData("2\n".getBytes(StandardCharsets.UTF_8));
                copier.message('c', null);
                assertThat(copier.untilReady()).isEqualTo("C Z");

                next.query("SELECT 42");
                assertThat(next.untilReady()).isEqualTo("T D(42) C Z");
                copier.query("SELECT count(*) FROM copy_sync");
                assertThat(copier.untilReady()).isEqualTo("T D(2) C Z");
            }
        }
    }

    @org.junit.jupiter.api.Test
    void aCopyByTheExtendedProtocolWithASyncSentAlongAsLibpqDoesEndsAtTheSecondSync() throws Exception {
        try (TestProxy proxy = TestProxy.start(POOL)) {
            createTable(proxy, "copy_ext");
            try (RawClient copier = new RawClient(proxy.port()); RawClient next = new RawClient(proxy.port())) {
                // PQexecParams("COPY ...") sends Parse, Bind, Describe, Execute, Sync at once; PostgreSQL ignores that
                // Sync inside COPY, and libpq sends another after CopyDone.
                copier.send(concat(message('P', "\0COPY copy_ext FROM STDIN\0\0\0"),
                        message('B', "\0\0\0\0\0\0\0\0"), message('D', "P\0"), message('E', "\0\0\0\0\0"),
                        message('S', "")));
                copier.expect('G');
                copier.copyData("7\n".getBytes(StandardCharsets.UTF_8));
                copier.message('c', null);
                copier.message('S', null);
                assertThat(copier.untilReady()).isEqualTo("C Z");

                next.query("SELECT 42");
                assertThat(next.untilReady()).as("the copier's backend went back to the pool").isEqualTo("T D(42) C Z");
                copier.query("SELECT count(*) FROM copy_ext");
                assertThat(copier.untilReady()).isEqualTo("T D(1) C Z");
            }
        }
    }

    @org.junit.jupiter.api.Test
    void anUnexpectedMessageDuringAnExtendedProtocolCopyEndsOnlyItsSender() throws Exception {
        try (TestProxy proxy = TestProxy.start(POOL)) {
            createTable(proxy, "copy_ext_bad");
            try (RawClient copier = new RawClient(proxy.port()); RawClient next = new RawClient(proxy.port())) {
                copier.send(concat(message('P', "\0COPY copy_ext_bad FROM STDIN\0\0\0"),
                        message('B', "\0\0\0\0\0\0\0\0"), message('E', "\0\0\0\0\0"), message('S', "")));
                copier.expect('G');
                copier.copyData("7\n".getBytes(StandardCharsets.UTF_8));
                copier.message('Q', "SELECT 1");
                assertThat(copier.untilReady()).isEqualTo("E(ERROR 08P01 unexpected message type 0x51 during COPY"
                        + " from stdin) E(FATAL 08P01 terminating connection because protocol synchronization was lost)"
                        + " Z");
                assertThat(copier.drainToEnd()).isTrue();

                next.query("SELECT 42");
                assertThat(next.untilReady()).isEqualTo("T D(42) C Z");
                next.query("SELECT 43");
                assertThat(next.untilReady()).isEqualTo("T D(43) C Z");
            }
            assertThat(count(proxy, "copy_ext_bad")).isZero();
        }
    }

    private static void createTable(TestProxy proxy, String table) throws Exception {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + table);
            s.execute("CREATE TABLE " + table + " (id int)");
            s.execute("GRANT ALL ON " + table + " TO trustuser");
        }
    }

    private static int count(TestProxy proxy, String table) throws Exception {
        try (Connection c = proxy.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static byte[] message(char type, String body) {
        byte[] b = body.getBytes(StandardCharsets.ISO_8859_1);
        return java.nio.ByteBuffer.allocate(5 + b.length).put((byte) type).putInt(4 + b.length).put(b).array();
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
