package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.backend.ScriptedBackend;
import io.pgwarden.harness.ProxyHarness;
import io.pgwarden.harness.ScriptedClient;
import io.pgwarden.harness.Wire;
import io.pgwarden.pool.BackendPool;
import org.junit.jupiter.api.Test;

/** A statement no other client may see pins the client to its backend in transaction mode, and says so. */
class PinningTest {

    private static final String PINNED_NOTICE = "NoticeResponse(NOTICE 01000: pgwarden: this connection keeps its "
            + "server connection from now on because it used SET ROLE, which transaction pooling cannot share)";

    @Test
    void aRoleSetByTheSecondStatementOfAQueryPinsTheClientToItsBackend() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);

            client.send(Wire.query("SELECT 1; SET ROLE x"));
            assertThat(client.received()).containsExactly(PINNED_NOTICE);
            assertThat(backend.received()).containsExactly("Query(SELECT 1; SET ROLE x)");
            backend.send(Wire.rowDescription("?column?"), Wire.dataRow("1"), Wire.commandComplete("SELECT 1"),
                    Wire.commandComplete("SET"), Wire.readyForQuery('I'));
            assertThat(client.received()).containsExactly("RowDescription", "DataRow(1)", "CommandComplete(SELECT 1)",
                    "CommandComplete(SET)", "ReadyForQuery(I)");
            // A SET makes pgwarden read the client's settings back before anything else; the client hears nothing.
            assertThat(backend.received()).containsExactly("Query(" + new SessionSettings().readQuery() + ")");
            backend.send(readBackAnswer());
            assertThat(client.received()).isEmpty();

            assertThat(client.session().linkedBackend()).as("kept after ReadyForQuery 'I'")
                    .isSameAs(backend.connection());
            assertThat(proxy.pool().counts()).isEqualTo(new BackendPool.Counts(1, 0, 0, 0, 0, null));

            ScriptedClient other = proxy.login();
            other.send(Wire.query("SELECT 2"));
            assertThat(other.state()).as("the pinned backend is nobody else's").isEqualTo(ClientState.WAITING);
            ScriptedBackend second = proxy.backends().accept();
            assertThat(second.received()).containsExactly("Query(SELECT 2)");
            assertThat(backend.receivedBytes()).isEmpty();

            client.send(Wire.query("SELECT 3"));
            assertThat(backend.received()).containsExactly("Query(SELECT 3)");
            assertThat(client.received()).as("told once").isEmpty();
        }
    }

    @Test
    void theWordsInAStringLiteralDoNotPin() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);

            client.send(Wire.query("SELECT 'SET ROLE x'"));
            assertThat(backend.received()).containsExactly("Query(SELECT 'SET ROLE x')");
            backend.send(Wire.oneRow("?column?", "SET ROLE x", 'I'));
            assertThat(client.received()).containsExactly("RowDescription", "DataRow(SET ROLE x)",
                    "CommandComplete(SELECT 1)", "ReadyForQuery(I)");
            assertThat(client.session().linkedBackend()).isNull();
            assertThat(proxy.pool().counts()).isEqualTo(new BackendPool.Counts(0, 1, 0, 0, 0, null));
        }
    }

    /** PostgreSQL's answer to the settings read-back: each setting the session changed, and its value. */
    private static byte[] readBackAnswer() {
        return Wire.concat(Wire.rowDescription("name", "current_setting"), Wire.dataRow("role", "x"),
                Wire.commandComplete("SELECT 1"), Wire.readyForQuery('I'));
    }
}
