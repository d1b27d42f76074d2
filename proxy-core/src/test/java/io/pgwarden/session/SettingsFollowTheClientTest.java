package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.backend.ScriptedBackend;
import io.pgwarden.harness.ProxyHarness;
import io.pgwarden.harness.ScriptedClient;
import io.pgwarden.harness.Wire;
import org.junit.jupiter.api.Test;

/**
 * On the wire, in transaction mode with one backend: what a client changed is read back from the server after
 * its transaction, undone for the next client and set again when it comes back; a transaction that changed
 * nothing costs no statement of pgwarden's.
 */
class SettingsFollowTheClientTest {

    private static final String READ_BACK = "Query(" + new SessionSettings().readQuery() + ")";

    @Test
    void aSettingAnyClientChangesIsReadBackResetForTheNextAndSetAgainForItsOwner() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction\nmax_size: 1")) {
            ScriptedClient a = proxy.login();
            ScriptedClient b = proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);

            a.send(Wire.query("SET default_transaction_read_only = on"));
            assertThat(backend.received()).containsExactly("Query(SET default_transaction_read_only = on)");
            backend.send(Wire.parameterStatus("default_transaction_read_only", "on"), Wire.commandComplete("SET"),
                    Wire.readyForQuery('I'));
            assertThat(a.received()).containsExactly("ParameterStatus(default_transaction_read_only=on)",
                    "CommandComplete(SET)", "ReadyForQuery(I)");
            assertThat(backend.received()).containsExactly(READ_BACK);
            backend.send(Wire.rowDescription("name", "current_setting"),
                    Wire.dataRow("default_transaction_read_only", "on"), Wire.commandComplete("SELECT 1"),
                    Wire.readyForQuery('I'));
            assertThat(a.received()).as("the read-back is pgwarden's own").isEmpty();

            b.send(Wire.query("SELECT 1"));
            assertThat(backend.received()).containsExactly("Query(RESET \"default_transaction_read_only\";)",
                    "Query(SELECT 1)");
            backend.send(Wire.parameterStatus("default_transaction_read_only", "off"), Wire.commandComplete("RESET"),
                    Wire.readyForQuery('I'), Wire.oneRow("?column?", "1", 'I'));
            assertThat(b.received()).containsExactly("ParameterStatus(default_transaction_read_only=off)",
                    "RowDescription", "DataRow(1)", "CommandComplete(SELECT 1)", "ReadyForQuery(I)");

            b.send(Wire.query("SELECT 2"));
            assertThat(backend.received()).as("nothing changed: nothing to do").containsExactly("Query(SELECT 2)");
            backend.send(Wire.oneRow("?column?", "2", 'I'));
            b.received();

            a.send(Wire.query("SELECT 3"));
            assertThat(backend.received()).containsExactly(
                    "Query(SELECT pg_catalog.set_config('default_transaction_read_only', 'on', false))",
                    "Query(SELECT 3)");
        }
    }

    @Test
    void setConfigInAQueryAndACustomSettingAreReadBackByName() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction\nmax_size: 1")) {
            ScriptedClient a = proxy.login();
            ScriptedClient b = proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);

            a.send(Wire.query("SELECT set_config('myapp.x', 'it''s', false)"));
            backend.received();
            backend.send(Wire.oneRow("set_config", "it's", 'I'));
            a.received();
            SessionSettings expected = new SessionSettings();
            expected.noteCustom(java.util.List.of("myapp.x"));
            assertThat(backend.received()).containsExactly("Query(" + expected.readQuery() + ")");
            backend.send(Wire.rowDescription("name", "current_setting"), Wire.dataRow("myapp.x", "it's"),
                    Wire.commandComplete("SELECT 1"), Wire.readyForQuery('I'));

            b.send(Wire.query("SELECT 1"));
            assertThat(backend.received()).containsExactly("Query(RESET \"myapp.x\";)", "Query(SELECT 1)");
            backend.send(Wire.commandComplete("RESET"), Wire.readyForQuery('I'), Wire.oneRow("?column?", "1", 'I'));
            b.received();

            a.send(Wire.query("SELECT 2"));
            assertThat(backend.received()).containsExactly(
                    "Query(SELECT pg_catalog.set_config('myapp.x', 'it''s', false))", "Query(SELECT 2)");
        }
    }

    @Test
    void aResetStartupSettingIsSetBackInTheReadBackAsPostgreSqlWouldHaveKeptIt() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction\nmax_size: 1")) {
            proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);
            ScriptedClient a = proxy.login(java.util.Map.of("application_name", "mine"));

            SessionSettings mine = new SessionSettings();
            mine.fromStartup(java.util.Map.of("application_name", "mine"), java.util.Map.of());
            String apply = mine.applyTo(new java.util.HashMap<>(), false);
            a.send(Wire.query("RESET ALL"));
            // A startup value is set with what the server accepts, and read back in the same query.
            assertThat(backend.received()).containsExactly("Query(" + apply + "; " + mine.readQuery() + ")",
                    "Query(RESET ALL)");
            backend.send(Wire.rowDescription("set_config"), Wire.dataRow("mine"), Wire.commandComplete("SELECT 1"),
                    Wire.rowDescription("name", "set_config"), Wire.commandComplete("SELECT 0"),
                    Wire.rowDescription("name", "current_setting"), Wire.dataRow("application_name", "mine"),
                    Wire.commandComplete("SELECT 1"), Wire.readyForQuery('I'),
                    Wire.parameterStatus("application_name", ""), Wire.commandComplete("RESET"),
                    Wire.readyForQuery('I'));
            assertThat(a.received()).containsExactly("ParameterStatus(application_name=)", "CommandComplete(RESET)",
                    "ReadyForQuery(I)");
            assertThat(backend.received()).containsExactly("Query(" + mine.readQuery() + ")");
            assertThat(mine.readQuery()).startsWith("SELECT s.name, pg_catalog.set_config(s.name, v.setting, false) FROM "
                    + "(VALUES ('application_name', 'mine')) v (name, setting) JOIN pg_catalog.pg_settings s ON ");
            // Set back ahead of the read, which then finds it as the client expects it.
            backend.send(Wire.parameterStatus("application_name", "mine"), Wire.rowDescription("set_config"),
                    Wire.dataRow("mine"), Wire.commandComplete("SELECT 1"),
                    Wire.rowDescription("name", "current_setting"), Wire.dataRow("application_name", "mine"),
                    Wire.commandComplete("SELECT 1"), Wire.readyForQuery('I'));
            assertThat(a.received()).containsExactly("ParameterStatus(application_name=mine)");
            assertThat(backend.received()).as("nothing left to set").isEmpty();
            assertThat(a.session().linkedBackend()).isNull();
        }
    }
}
