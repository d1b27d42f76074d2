package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.backend.ScriptedBackend;
import io.pgwarden.harness.ProxyHarness;
import io.pgwarden.harness.ScriptedClient;
import io.pgwarden.harness.Wire;
import io.pgwarden.pool.BackendPool;
import org.junit.jupiter.api.Test;

/** Session pooling: one backend from login to Terminate, made clean before the next client gets it. */
class SessionPoolingTest {

    @Test
    void theLoginsBackendServesEveryTransactionAndIsResetWhenTheClientLeaves() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: session")) {
            ScriptedClient client = proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);
            assertThat(client.session().linkedBackend()).isSameAs(backend.connection());
            for (String sql : new String[] {"SELECT 1", "SELECT 2"}) {
                client.send(Wire.query(sql));
                assertThat(backend.received()).containsExactly("Query(" + sql + ")");
                backend.send(Wire.oneRow("?column?", sql.substring(7), 'I'));
                assertThat(client.received()).endsWith("ReadyForQuery(I)");
                assertThat(proxy.pool().counts()).isEqualTo(new BackendPool.Counts(1, 0, 0, 0, 0, null));
            }

            client.send(Wire.terminate());
            assertThat(backend.received()).containsExactly("Query(DISCARD ALL)");
            assertThat(proxy.pool().counts().idle()).as("not before it answered cleanly").isZero();
            backend.send(Wire.commandComplete("DISCARD ALL"), Wire.readyForQuery('I'));
            assertThat(proxy.pool().counts()).isEqualTo(new BackendPool.Counts(0, 1, 0, 0, 0, null));

            ScriptedClient next = proxy.login();
            assertThat(next.session().linkedBackend()).isSameAs(backend.connection());
            assertThat(proxy.backends().opened()).hasSize(1);
        }
    }
}
