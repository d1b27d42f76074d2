package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.backend.ScriptedBackend;
import io.pgwarden.harness.ProxyHarness;
import io.pgwarden.harness.ScriptedClient;
import io.pgwarden.harness.Wire;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The per-pool counts by state (SHOW POOLS, pgwarden_clients) follow each client exactly, with no stale entry. */
class ClientStateCountsTest {

    @Test
    void theCountsFollowOneClientThroughATransaction() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            ScriptedClient client = proxy.connect();
            client.send(Wire.startup(Map.of("user", ProxyHarness.USER, "database", ProxyHarness.DATABASE)));
            client.send(Wire.password(ProxyHarness.PASSWORD));
            assertThat(counts(proxy)).as("the login borrows a backend for the server's parameters")
                    .isEqualTo(Map.of(ClientState.LOGIN_WAITING, 1));
            ScriptedBackend first = proxy.backends().accept();
            assertThat(counts(proxy)).isEqualTo(Map.of(ClientState.IDLE, 1));

            first.closeSocket();
            client.send(Wire.query("BEGIN"));
            assertThat(counts(proxy)).as("its idle backend died: a new one is opening")
                    .isEqualTo(Map.of(ClientState.WAITING, 1));
            ScriptedBackend backend = proxy.backends().accept();
            assertThat(counts(proxy)).isEqualTo(Map.of(ClientState.ACTIVE, 1));
            assertThat(backend.received()).containsExactly("Query(BEGIN)");
            backend.send(Wire.commandComplete("BEGIN"), Wire.readyForQuery('T'));
            assertThat(counts(proxy)).isEqualTo(Map.of(ClientState.IN_TRANSACTION, 1));

            client.send(Wire.query("SELECT 1/0"));
            assertThat(counts(proxy)).isEqualTo(Map.of(ClientState.ACTIVE, 1));
            backend.send(Wire.error("22012", "division by zero"), Wire.readyForQuery('E'));
            assertThat(counts(proxy)).isEqualTo(Map.of(ClientState.FAILED_TRANSACTION, 1));

            client.send(Wire.query("ROLLBACK"));
            assertThat(counts(proxy)).isEqualTo(Map.of(ClientState.ACTIVE, 1));
            backend.send(Wire.commandComplete("ROLLBACK"), Wire.readyForQuery('I'));
            assertThat(counts(proxy)).isEqualTo(Map.of(ClientState.IDLE, 1));

            client.send(Wire.terminate());
            assertThat(client.state()).isEqualTo(ClientState.CLOSED);
            assertThat(counts(proxy)).as("a closed client is counted nowhere").isEmpty();
        }
    }

    @Test
    void twoClientsAreCountedApartAndAWaiterLeavingIsUncounted() {
        try (ProxyHarness proxy = ProxyHarness.start("""
                pool_mode: transaction
                max_size: 1
                """)) {
            ScriptedClient holder = proxy.login();
            ScriptedClient waiter = proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);
            holder.send(Wire.query("BEGIN"));
            backend.send(Wire.commandComplete("BEGIN"), Wire.readyForQuery('T'));
            waiter.send(Wire.query("SELECT 1"));
            assertThat(counts(proxy)).isEqualTo(Map.of(ClientState.IN_TRANSACTION, 1, ClientState.WAITING, 1));

            waiter.disconnect();
            assertThat(counts(proxy)).isEqualTo(Map.of(ClientState.IN_TRANSACTION, 1));
            assertThat(proxy.pool().counts().waiting()).isZero();
        }
    }

    /** Every state with a client in it, and how many. */
    private static Map<ClientState, Integer> counts(ProxyHarness proxy) {
        Map<ClientState, Integer> counts = new EnumMap<>(ClientState.class);
        for (ClientState state : ClientState.values()) {
            int n = proxy.clientsIn(state);
            if (n != 0) {
                counts.put(state, n);
            }
        }
        return counts;
    }
}
