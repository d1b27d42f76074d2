package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.ScriptedBackend;
import io.pgwarden.harness.ProxyHarness;
import io.pgwarden.harness.ScriptedClient;
import io.pgwarden.harness.Wire;
import io.pgwarden.pool.BackendPool;
import org.junit.jupiter.api.Test;

/** Transaction pooling as a client sees it: a backend per transaction, and back to the pool at ReadyForQuery 'I'. */
class TransactionRoutingTest {

    @Test
    void aQueryWaitsForTheBusyBackendThenReachesItAsSentAndTheBackendGoesBackAtIdle() {
        try (ProxyHarness proxy = ProxyHarness.start("""
                pool_mode: transaction
                max_size: 1
                """)) {
            ScriptedClient holder = proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);
            ScriptedClient waiter = proxy.login();
            assertThat(proxy.backends().opened()).as("the second login needed no backend").hasSize(1);

            holder.send(Wire.query("BEGIN"));
            assertThat(backend.received()).containsExactly("Query(BEGIN)");
            backend.send(Wire.commandComplete("BEGIN"), Wire.readyForQuery('T'));
            assertThat(holder.received()).containsExactly("CommandComplete(BEGIN)", "ReadyForQuery(T)");

            byte[] query = Wire.query("SELECT 2");
            waiter.send(query);
            assertThat(waiter.state()).isEqualTo(ClientState.WAITING);
            assertThat(proxy.pool().counts()).isEqualTo(new BackendPool.Counts(1, 0, 0, 0, 1, null));
            assertThat(proxy.backends().dialsPending()).as("max_size is reached").isZero();
            assertThat(backend.receivedBytes()).isEmpty();

            holder.send(Wire.query("COMMIT"));
            assertThat(backend.received()).containsExactly("Query(COMMIT)");
            backend.send(Wire.commandComplete("COMMIT"), Wire.readyForQuery('I'));
            assertThat(holder.received()).containsExactly("CommandComplete(COMMIT)", "ReadyForQuery(I)");
            assertThat(holder.session().linkedBackend()).isNull();
            assertThat(waiter.session().linkedBackend()).isSameAs(backend.connection());
            assertThat(backend.receivedBytes()).as("byte for byte what the client sent").isEqualTo(query);
            assertThat(waiter.state()).isEqualTo(ClientState.ACTIVE);

            backend.send(Wire.oneRow("?column?", "2", 'I'));
            assertThat(waiter.received()).containsExactly("RowDescription", "DataRow(2)", "CommandComplete(SELECT 1)",
                    "ReadyForQuery(I)");
            assertThat(waiter.state()).isEqualTo(ClientState.IDLE);
            assertThat(proxy.pool().counts()).isEqualTo(new BackendPool.Counts(0, 1, 0, 0, 0, null));
            assertThat(backend.state()).isEqualTo(BackendConnection.State.IDLE);
        }
    }

    @Test
    void theNextTransactionOfAnyClientReusesTheIdleBackend() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient first = proxy.login();
            ScriptedClient second = proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);
            for (ScriptedClient client : new ScriptedClient[] {first, second, first}) {
                client.send(Wire.query("SELECT 1"));
                assertThat(backend.received()).containsExactly("Query(SELECT 1)");
                backend.send(Wire.oneRow("?column?", "1", 'I'));
                assertThat(client.received()).endsWith("ReadyForQuery(I)");
                assertThat(proxy.pool().counts()).isEqualTo(new BackendPool.Counts(0, 1, 0, 0, 0, null));
            }
            assertThat(proxy.backends().dialsPending()).isZero();
            assertThat(proxy.backends().opened()).hasSize(1);
        }
    }

    @Test
    void pipelinedQueriesKeepTheirBackendUntilTheLastReadyForQuery() {
        try (ProxyHarness proxy = ProxyHarness.start("""
                pool_mode: transaction
                max_size: 1
                """)) {
            ScriptedClient client = proxy.login();
            ScriptedClient other = proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);

            client.send(Wire.query("SELECT 1"), Wire.query("SELECT 2"));
            assertThat(backend.received()).containsExactly("Query(SELECT 1)", "Query(SELECT 2)");

            backend.send(Wire.oneRow("?column?", "1", 'I'));
            assertThat(client.received()).containsExactly("RowDescription", "DataRow(1)", "CommandComplete(SELECT 1)",
                    "ReadyForQuery(I)");
            assertThat(client.state()).as("SELECT 2 is still owed").isEqualTo(ClientState.ACTIVE);
            assertThat(client.session().linkedBackend()).isSameAs(backend.connection());
            other.send(Wire.query("SELECT 3"));
            assertThat(other.state()).isEqualTo(ClientState.WAITING);
            assertThat(backend.receivedBytes()).isEmpty();

            backend.send(Wire.oneRow("?column?", "2", 'I'));
            assertThat(client.received()).containsExactly("RowDescription", "DataRow(2)", "CommandComplete(SELECT 1)",
                    "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(ClientState.IDLE);
            assertThat(client.session().linkedBackend()).isNull();
            assertThat(backend.received()).as("now the other client's turn").containsExactly("Query(SELECT 3)");
            assertThat(other.session().linkedBackend()).isSameAs(backend.connection());
        }
    }
}
