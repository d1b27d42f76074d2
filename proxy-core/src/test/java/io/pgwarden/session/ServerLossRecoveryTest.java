package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.backend.ScriptedBackend;
import io.pgwarden.harness.ProxyHarness;
import io.pgwarden.harness.ScriptedClient;
import io.pgwarden.harness.Wire;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a transaction-mode client notices when its backend dies, at each moment it can die. */
class ServerLossRecoveryTest {

    private static final String LOST_TRANSACTION = "ErrorResponse(ERROR 08006: pgwarden: the server connection was "
            + "lost; the transaction was rolled back)";
    private static final String LOST_REQUEST = "ErrorResponse(ERROR 08006: pgwarden: the server connection was lost; "
            + "the request may or may not have been executed)";

    @Test
    void aBackendLostWhileTheClientSitsInATransactionFailsItsNextQueryThenRestoresTheFailedTransaction() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            ScriptedBackend first = proxy.backends().opened().get(0);
            client.send(Wire.query("BEGIN"));
            assertThat(first.received()).containsExactly("Query(BEGIN)");
            first.send(Wire.commandComplete("BEGIN"), Wire.readyForQuery('T'));
            assertThat(client.received()).containsExactly("CommandComplete(BEGIN)", "ReadyForQuery(T)");

            first.closeSocket();
            assertThat(client.received()).as("nothing was owed, so nothing is said yet").isEmpty();
            assertThat(client.state()).isEqualTo(ClientState.FAILED_TRANSACTION);
            assertThat(proxy.metric("pgwarden_client_errors_from_server_loss_total{during=\"idle_in_transaction\"}"))
                    .isEqualTo(1.0);

            client.send(Wire.query("UPDATE t SET v = 1"));
            assertThat(client.received()).containsExactly(LOST_TRANSACTION, "ReadyForQuery(E)");
            assertThat(proxy.backends().dialsPending()).as("answered without a backend").isZero();

            client.send(Wire.query("ROLLBACK"));
            assertThat(client.state()).isEqualTo(ClientState.WAITING);
            ScriptedBackend second = proxy.backends().accept();
            List<String> received = second.received();
            assertThat(received).hasSize(2);
            assertThat(received.get(0)).as("the failed transaction, recreated first")
                    .startsWith("Query(BEGIN; DO $pgwarden$ BEGIN RAISE EXCEPTION USING ERRCODE = '08006'");
            assertThat(received.get(1)).isEqualTo("Query(ROLLBACK)");
            second.send(Wire.commandComplete("BEGIN"), Wire.error("08006", "pgwarden: the server connection was lost; "
                    + "the transaction was rolled back"), Wire.readyForQuery('E'));
            second.send(Wire.commandComplete("ROLLBACK"), Wire.readyForQuery('I'));
            assertThat(client.received()).as("PostgreSQL's own answer to ROLLBACK in a failed transaction")
                    .containsExactly("CommandComplete(ROLLBACK)", "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(ClientState.IDLE);

            client.send(Wire.query("SELECT 1"));
            assertThat(second.received()).as("nothing to restore any more").containsExactly("Query(SELECT 1)");
        }
    }

    @Test
    void aFatalBeforeTheAnswerToTheCanarySyncReplaysTheRequestOnANewBackend() {
        try (ProxyHarness proxy = ProxyHarness.start("""
                pool_mode: transaction
                server:
                  replay_check_after: 0s
                """)) {
            ScriptedClient client = proxy.login();
            ScriptedBackend first = proxy.backends().opened().get(0);
            client.send(Wire.query("INSERT INTO t VALUES (1)"));
            assertThat(first.received()).containsExactly("Sync", "Query(INSERT INTO t VALUES (1))");

            first.terminate("57P01", "terminating connection due to administrator command");
            assertThat(client.received()).isEmpty();
            assertThat(client.state()).isEqualTo(ClientState.WAITING);

            ScriptedBackend second = proxy.backends().accept();
            assertThat(second.received()).containsExactly("Sync", "Query(INSERT INTO t VALUES (1))");
            second.send(Wire.readyForQuery('I'));
            second.send(Wire.commandComplete("INSERT 0 1"), Wire.readyForQuery('I'));
            assertThat(client.received()).containsExactly("CommandComplete(INSERT 0 1)", "ReadyForQuery(I)");
            assertThat(proxy.metric("pgwarden_replayed_requests_total")).isEqualTo(1.0);
            assertThat(proxy.metric("pgwarden_client_errors_from_server_loss_total{during=\"request_unchecked\"}"))
                    .isZero();
            assertThat(proxy.context().pools().clusters().of("appdb").orElseThrow().failoverReplays())
                    .as("sent again on the same server: no failover").isZero();
        }
    }

    @Test
    void aFatalAfterTheCanaryWasAnsweredIsNotReplayed() {
        try (ProxyHarness proxy = ProxyHarness.start("""
                pool_mode: transaction
                server:
                  replay_check_after: 0s
                """)) {
            ScriptedClient client = proxy.login();
            ScriptedBackend first = proxy.backends().opened().get(0);
            client.send(Wire.query("INSERT INTO t VALUES (1)"));
            assertThat(first.received()).containsExactly("Sync", "Query(INSERT INTO t VALUES (1))");
            first.send(Wire.readyForQuery('I'));

            first.terminate("57P01", "terminating connection due to administrator command");
            assertThat(client.received()).as("PostgreSQL's own cause, so drivers raise what they would directly")
                    .containsExactly("ErrorResponse(ERROR 57P01: terminating connection due to administrator command)",
                            "ReadyForQuery(I)");
            assertThat(proxy.backends().dialsPending()).isZero();
            assertThat(proxy.metric("pgwarden_replayed_requests_total")).isZero();
            assertThat(proxy.metric("pgwarden_client_errors_from_server_loss_total{during=\"request_after_check\"}"))
                    .isEqualTo(1.0);
        }
    }

    @Test
    void aLossWithRequestsInFlightAnswersEachOwedRequestWithExactlyOneError() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);
            client.send(Wire.query("SELECT 1"), Wire.query("SELECT 2"), Wire.query("SELECT 3"));
            assertThat(backend.received()).containsExactly("Query(SELECT 1)", "Query(SELECT 2)", "Query(SELECT 3)");
            backend.send(Wire.oneRow("?column?", "1", 'I'), Wire.rowDescription("?column?"));

            backend.closeSocket();
            assertThat(client.received()).containsExactly("RowDescription", "DataRow(1)", "CommandComplete(SELECT 1)",
                    "ReadyForQuery(I)", "RowDescription", LOST_REQUEST, "ReadyForQuery(I)", LOST_REQUEST,
                    "ReadyForQuery(I)");
            assertThat(client.state()).isEqualTo(ClientState.IDLE);
            assertThat(proxy.metric("pgwarden_client_errors_from_server_loss_total{during=\"request_unchecked\"}"))
                    .isEqualTo(1.0);

            client.send(Wire.query("SELECT 4"));
            ScriptedBackend next = proxy.backends().accept();
            assertThat(next.received()).as("no failed transaction to restore").containsExactly("Query(SELECT 4)");
        }
    }
}
