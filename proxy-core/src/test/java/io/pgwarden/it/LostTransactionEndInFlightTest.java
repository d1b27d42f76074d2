package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * pg8000 ends a transaction in three round trips: Parse of COMMIT with a Sync, Describe of it with a Sync, then
 * Bind and Execute. A backend lost during either of the first two has run nothing of the COMMIT, but the client
 * was ending its transaction: it must come out of it (ReadyForQuery 'I'), as it does when the loss is noticed
 * before its Parse arrives. Left in a failed transaction, pg8000's next statement got PostgreSQL's 25P02 (seen
 * in LostConnectionDriversTest whenever the termination was noticed late, on a loaded machine). A blackholed relay
 * holds the request "at the server" until the test closes the connection, so the moment is not left to timing.
 */
class LostTransactionEndInFlightTest {

    @ParameterizedTest(name = "{0} lost in {1} mode")
    @CsvSource({
            "parse of COMMIT, transaction, I",
            "parse of COMMIT, session, I",
            "describe of COMMIT, transaction, I",
            "describe of ROLLBACK, session, I",
            "parse of COMMIT then another statement executed, transaction, E",
    })
    void aLostBackendDuringTheEndOfATransactionLeavesTheClientOutOfIt(String batch, String mode, char expected)
            throws Exception {
        try (FaultRelay relay = FaultRelay.start("127.0.0.1", TestPostgres.shared().port());
             TestProxy proxy = TestProxy.start("pool_mode: " + mode + "\nmax_size: 2", "", relay.port(), "");
             RawClient client = new RawClient(proxy.port())) {
            client.query("BEGIN");
            assertThat(answer(client).status()).isEqualTo('T');
            client.query("SELECT 1");
            assertThat(answer(client).status()).isEqualTo('T');
            String end = batch.contains("ROLLBACK") ? "ROLLBACK" : "COMMIT";
            if (batch.startsWith("describe")) {
                client.parse("", end);
                client.sync();
                assertThat(answer(client).status()).isEqualTo('T');
            }

            relay.stopForwarding();
            if (batch.startsWith("describe")) {
                client.message('D', "S");
                client.message('S', (String) null);
            } else if (batch.endsWith("executed")) {
                client.parse("", end);
                client.parse("other", "SELECT 2");
                client.bindExecute("other");
                client.sync();
            } else {
                client.parse("", end);
                client.sync();
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> relay.discardedBytes() > 0);
            relay.closeAll();
            relay.resumeForwarding();

            Answer lost = answer(client);
            assertThat(lost.errors()).as("one error for the lost batch").hasSize(1);
            assertThat(lost.status()).as("transaction status after the loss").isEqualTo(expected);
            client.query("SELECT 1");
            Answer next = answer(client);
            if (expected == 'I') {
                assertThat(next.errors()).as("the next statement runs outside any transaction").isEmpty();
                assertThat(next.status()).isEqualTo('I');
            } else {
                // Still in the failed transaction, as PostgreSQL would have it: the client's ROLLBACK ends it.
                assertThat(next.errors()).containsExactly("25P02");
                client.query("ROLLBACK");
                assertThat(answer(client).status()).isEqualTo('I');
            }
        }
    }

    private record Answer(List<String> errors, char status) {
    }

    /** Messages up to ReadyForQuery: the SQLSTATEs of its ErrorResponses and its transaction status. */
    private static Answer answer(RawClient client) throws java.io.IOException {
        List<String> errors = new ArrayList<>();
        while (true) {
            RawClient.Message m = client.next();
            if (m.type() == 'E') {
                errors.add(field(m.body(), 'C'));
            } else if (m.type() == 'Z') {
                return new Answer(errors, (char) m.body()[0]);
            }
        }
    }

    private static String field(byte[] body, char code) {
        for (int at = 0; at < body.length && body[at] != 0; ) {
            int end = at + 1;
            while (body[end] != 0) {
                end++;
            }
            if (body[at] == code) {
                return new String(body, at + 1, end - at - 1, java.nio.charset.StandardCharsets.UTF_8);
            }
            at = end + 1;
        }
        return null;
    }
}
