package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.backend.ScriptedBackend;
import io.pgwarden.harness.ProxyHarness;
import io.pgwarden.harness.ScriptedClient;
import io.pgwarden.harness.Wire;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A COMMIT or ROLLBACK that finds its transaction lost ends it from the client's point of view, in each protocol
 * and pooling mode: drivers (psycopg2 first) take any answer to COMMIT as the transaction's end, so a failed
 * transaction left behind it would fail every later one on that connection.
 */
class LostTransactionEndTest {

    private static final String LOST_TRANSACTION = "ErrorResponse(ERROR 08006: pgwarden: the server connection was "
            + "lost; the transaction was rolled back)";
    private static final String LOST_NOTICE = "NoticeResponse(NOTICE 00000: pgwarden: the server connection had "
            + "been lost; the transaction was already rolled back)";

    @ParameterizedTest
    @ValueSource(strings = {"COMMIT", "commit;", "  End Work ; ;", "/* app */ COMMIT TRANSACTION -- done",
            "COMMIT AND NO CHAIN", "commit and chain"})
    void aCommitThatFindsItsTransactionLostGetsTheErrorAndLeavesTheClientOutOfTheTransaction(String commit) {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            loseWhileIdleInTransaction(proxy, client);

            client.send(Wire.query(commit));
            assertThat(client.received()).containsExactly(LOST_TRANSACTION, "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(ClientState.IDLE);
            assertThat(proxy.backends().dialsPending()).as("answered without a backend").isZero();

            client.send(Wire.query("SELECT 1"));
            ScriptedBackend next = proxy.backends().accept();
            assertThat(next.received()).as("no failed transaction recreated").containsExactly("Query(SELECT 1)");
            next.send(Wire.oneRow("?column?", "1", 'I'));
            assertThat(client.received()).endsWith("ReadyForQuery(I)");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ROLLBACK", "abort;", "rollback work", "ROLLBACK AND CHAIN"})
    void aRollbackThatFindsItsTransactionLostGetsPostgresqlsOwnAnswerOnAReopenedTransaction(String rollback) {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            loseWhileIdleInTransaction(proxy, client);

            client.send(Wire.query(rollback));
            ScriptedBackend next = proxy.backends().accept();
            assertThat(next.received()).containsExactly("Query(BEGIN)", "Query(" + rollback + ")");
            boolean chain = rollback.endsWith("CHAIN");
            next.send(Wire.commandComplete("BEGIN"), Wire.readyForQuery('T'));
            next.send(Wire.commandComplete("ROLLBACK"), Wire.readyForQuery(chain ? 'T' : 'I'));
            assertThat(client.received()).containsExactly(LOST_NOTICE, "CommandComplete(ROLLBACK)",
                    chain ? "ReadyForQuery(T)" : "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(chain ? ClientState.IN_TRANSACTION : ClientState.IDLE);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"UPDATE t SET v = 1", "ROLLBACK TO SAVEPOINT a", "COMMIT PREPARED 'x'",
            "COMMIT; SELECT 1", "ROLLBACK; BEGIN"})
    void anythingElseFailsInAFailedTransactionWhichTheClientsRollbackThenEnds(String other) {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            loseWhileIdleInTransaction(proxy, client);

            client.send(Wire.query(other));
            assertThat(client.received()).containsExactly(LOST_TRANSACTION, "ReadyForQuery(E)");
            assertThat(client.state()).isEqualTo(ClientState.FAILED_TRANSACTION);

            client.send(Wire.query("COMMIT"));
            ScriptedBackend next = proxy.backends().accept();
            assertThat(next.received()).hasSize(2).last().isEqualTo("Query(COMMIT)");
        }
    }

    @Test
    void anExtendedCommitGetsTheErrorOnceAndReadyForQueryIdleAtItsSync() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            loseWhileIdleInTransaction(proxy, client);

            client.send(parse("", "COMMIT"), bind(""), describePortal(), execute(), sync());
            assertThat(client.received()).containsExactly(LOST_TRANSACTION, "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(ClientState.IDLE);
            assertThat(proxy.backends().dialsPending()).isZero();
        }
    }

    @Test
    void aPipelineIsDecidedByItsFirstRequestAndTheRestIsSkippedUpToSync() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            loseWhileIdleInTransaction(proxy, client);

            client.send(parse("", "COMMIT"), bind(""), execute(), parse("", "INSERT INTO t VALUES (1)"), bind(""),
                    execute(), sync());
            assertThat(client.received()).containsExactly(LOST_TRANSACTION, "ReadyForQuery(I)");

            client.send(parse("", "INSERT INTO t VALUES (1)"), bind(""), execute(), parse("", "COMMIT"), bind(""),
                    execute(), sync());
            ScriptedBackend next = proxy.backends().accept();
            assertThat(next.received()).as("a new transaction, nothing restored")
                    .containsExactly("Parse", "Bind", "Execute", "Parse", "Bind", "Execute", "Sync");
        }
    }

    @Test
    void aPipelineThatGoesOnToCommitItsLostTransactionLeavesTheClientOutOfIt() {
        // psycopg 3's pipeline mode: the INSERT and the COMMIT behind it in one batch.
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            loseWhileIdleInTransaction(proxy, client);

            client.send(parse("", "INSERT INTO t VALUES (1)"), bind(""), execute(), parse("", "COMMIT"), bind(""),
                    execute(), sync());
            assertThat(client.received()).containsExactly(LOST_TRANSACTION, "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(ClientState.IDLE);

            client.send(parse("", "INSERT INTO t VALUES (2)"), bind(""), execute(), sync());
            ScriptedBackend next = proxy.backends().accept();
            assertThat(next.received()).as("a new transaction, no failed one recreated")
                    .containsExactly("Parse", "Bind", "Execute", "Sync");
        }
    }

    @Test
    void aPipelineThatDoesNotEndItsLostTransactionLeavesItFailed() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            loseWhileIdleInTransaction(proxy, client);

            client.send(parse("", "INSERT INTO t VALUES (1)"), bind(""), execute(), parse("", "SELECT 1"), bind(""),
                    execute(), sync());
            assertThat(client.received()).containsExactly(LOST_TRANSACTION, "ReadyForQuery(E)");
            assertThat(client.state()).isEqualTo(ClientState.FAILED_TRANSACTION);
        }
    }

    @Test
    void aCommitPreparedUnderANameAndBoundLaterIsRecognisedToo() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            ScriptedBackend first = proxy.backends().opened().get(0);
            client.send(parse("S_1", "COMMIT"), sync());
            // pgwarden describes each statement it prepares for a client, hidden, to know its shape later.
            assertThat(first.received()).containsExactly("Parse", "Describe", "Sync");
            first.send(encode('1', new byte[0]), encode('t', new byte[2]), encode('n', new byte[0]),
                    Wire.readyForQuery('I'));
            assertThat(client.received()).containsExactly("ParseComplete", "ReadyForQuery(I)");
            loseWhileIdleInTransaction(proxy, client);

            client.send(bind("S_1"), execute(), sync());
            assertThat(client.received()).containsExactly(LOST_TRANSACTION, "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(ClientState.IDLE);
        }
    }

    @Test
    void anExtendedRollbackRunsOnAReopenedTransaction() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            loseWhileIdleInTransaction(proxy, client);

            client.send(parse("", "ROLLBACK"), bind(""), execute(), sync());
            ScriptedBackend next = proxy.backends().accept();
            assertThat(next.received()).containsExactly("Query(BEGIN)", "Parse", "Bind", "Execute", "Sync");
            next.send(Wire.commandComplete("BEGIN"), Wire.readyForQuery('T'));
            next.send(encode('1', new byte[0]), encode('2', new byte[0]), Wire.commandComplete("ROLLBACK"),
                    Wire.readyForQuery('I'));
            assertThat(client.received()).containsExactly(LOST_NOTICE, "ParseComplete", "BindComplete",
                    "CommandComplete(ROLLBACK)", "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(ClientState.IDLE);
        }
    }

    @Test
    void aBackendLostWhileTheCommitIsInFlightSaysTheOutcomeIsUnknownAndLeavesTheClientIdle() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            ScriptedBackend first = begin(proxy, client);
            client.send(Wire.query("COMMIT"));
            assertThat(first.received()).containsExactly("Query(COMMIT)");

            first.closeSocket();
            assertThat(client.received()).containsExactly("ErrorResponse(ERROR 08006: pgwarden: the server connection "
                    + "was lost; the COMMIT was in flight, so the transaction may or may not have been committed)",
                    "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(ClientState.IDLE);

            client.send(Wire.query("SELECT 1"));
            assertThat(proxy.backends().accept().received()).as("no failed transaction recreated")
                    .containsExactly("Query(SELECT 1)");
        }
    }

    @Test
    void aBackendLostWhileAnExtendedCommitIsInFlightLeavesTheClientIdle() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            ScriptedBackend first = begin(proxy, client);
            client.send(parse("", "COMMIT"), bind(""), execute(), sync());
            assertThat(first.received()).containsExactly("Parse", "Bind", "Execute", "Sync");
            first.send(encode('1', new byte[0]), encode('2', new byte[0]));

            first.terminate("57P01", "terminating connection due to administrator command");
            assertThat(client.received()).containsExactly("ParseComplete", "BindComplete",
                    "ErrorResponse(ERROR 57P01: terminating connection due to administrator command)",
                    "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(ClientState.IDLE);
        }
    }

    @Test
    void aBackendLostWhileTheRollbackIsInFlightAnswersRollback() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            ScriptedBackend first = begin(proxy, client);
            client.send(Wire.query("ROLLBACK"));
            assertThat(first.received()).containsExactly("Query(ROLLBACK)");

            first.closeSocket();
            assertThat(client.received()).containsExactly("CommandComplete(ROLLBACK)", "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(ClientState.IDLE);

            client.send(Wire.query("SELECT 1"));
            assertThat(proxy.backends().accept().received()).containsExactly("Query(SELECT 1)");
        }
    }

    @Test
    void aBackendLostWhileARollbackIsBeingParsedLeavesTheClientIdle() {
        // pg8000 parses and describes its ROLLBACK (Parse, Describe, Sync) before it binds and executes it.
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            ScriptedBackend first = begin(proxy, client);
            client.send(parse("", "ROLLBACK"), describeStatement(), sync());
            assertThat(first.received()).containsExactly("Parse", "Describe", "Sync");

            first.terminate("57P01", "terminating connection due to administrator command");
            assertThat(client.received()).containsExactly(
                    "ErrorResponse(ERROR 57P01: terminating connection due to administrator command)",
                    "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(ClientState.IDLE);

            client.send(Wire.query("SELECT 1"));
            assertThat(proxy.backends().accept().received()).as("no failed transaction recreated")
                    .containsExactly("Query(SELECT 1)");
        }
    }

    @Test
    void inSessionModeACommitThatFindsItsTransactionLostLeavesTheClientIdleToo() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: session")) {
            ScriptedClient client = proxy.login();
            loseWhileIdleInTransaction(proxy, client);

            client.send(Wire.query("COMMIT"));
            assertThat(client.received()).containsExactly(LOST_TRANSACTION, "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(ClientState.IDLE);

            client.send(Wire.query("SELECT 1"));
            ScriptedBackend next = proxy.backends().accept();
            assertThat(next.received()).containsExactly("Query(SELECT 1)");
        }
    }

    @Test
    void inSessionModeARollbackRunsOnAReopenedTransactionAfterTheSessionsStatements() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: session")) {
            ScriptedClient client = proxy.login();
            loseWhileIdleInTransaction(proxy, client);

            client.send(Wire.query("ROLLBACK"));
            ScriptedBackend next = proxy.backends().accept();
            assertThat(next.received()).containsExactly("Query(BEGIN)", "Query(ROLLBACK)");
            next.send(Wire.commandComplete("BEGIN"), Wire.readyForQuery('T'));
            next.send(Wire.commandComplete("ROLLBACK"), Wire.readyForQuery('I'));
            assertThat(client.received()).containsExactly(LOST_NOTICE, "CommandComplete(ROLLBACK)",
                    "ReadyForQuery(I)");
        }
    }

    @Test
    void anErrorForALostTransactionKeepsPostgresqlsCodeAndMessage() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            ScriptedBackend first = begin(proxy, client);
            first.terminate("25P03", "terminating connection due to idle-in-transaction timeout");

            client.send(Wire.query("COMMIT"));
            assertThat(client.received()).containsExactly(
                    "ErrorResponse(ERROR 25P03: terminating connection due to idle-in-transaction timeout)",
                    "ReadyForQuery(I)");
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static ScriptedBackend begin(ProxyHarness proxy, ScriptedClient client) {
        ScriptedBackend backend = proxy.backends().opened().get(0);
        client.send(Wire.query("BEGIN"));
        assertThat(backend.received()).containsExactly("Query(BEGIN)");
        backend.send(Wire.commandComplete("BEGIN"), Wire.readyForQuery('T'));
        assertThat(client.received()).containsExactly("CommandComplete(BEGIN)", "ReadyForQuery(T)");
        return backend;
    }

    private static void loseWhileIdleInTransaction(ProxyHarness proxy, ScriptedClient client) {
        ScriptedBackend backend = begin(proxy, client);
        backend.closeSocket();
        assertThat(client.received()).isEmpty();
        assertThat(client.state()).isEqualTo(ClientState.FAILED_TRANSACTION);
    }

    private static byte[] parse(String name, String sql) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cString(body, name);
        cString(body, sql);
        body.write(0);
        body.write(0);
        return encode('P', body.toByteArray());
    }

    private static byte[] bind(String statement) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cString(body, "");
        cString(body, statement);
        body.writeBytes(new byte[6]);
        return encode('B', body.toByteArray());
    }

    private static byte[] describeStatement() {
        return encode('D', new byte[] {'S', 0});
    }

    private static byte[] describePortal() {
        return encode('D', new byte[] {'P', 0});
    }

    private static byte[] execute() {
        return encode('E', new byte[5]);
    }

    private static byte[] sync() {
        return encode('S', new byte[0]);
    }

    private static void cString(ByteArrayOutputStream out, String value) {
        out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }

    private static byte[] encode(char tag, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int length = body.length + 4;
        out.write(length >>> 24);
        out.write(length >>> 16);
        out.write(length >>> 8);
        out.write(length);
        out.writeBytes(body);
        return out.toByteArray();
    }
}
