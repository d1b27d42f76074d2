package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The statement that makes a shared backend carry exactly one client's settings, and the one that reads them. */
class SessionSettingsTest {

    @Test
    void startupValuesEqualToTheServersNeedNoStatement() {
        SessionSettings settings = new SessionSettings();
        settings.fromStartup(Map.of("client_encoding", "UTF8", "user", "app"), Map.of("client_encoding", "UTF8"));
        assertThat(settings.applyTo(new HashMap<>(), false)).isNull();
    }

    @Test
    void anEncodingIsSpelledAsPostgreSqlSpellsIt() {
        for (String spelling : new String[] {"utf8", "UTF-8", "unicode", "Utf_8"}) {
            SessionSettings settings = new SessionSettings();
            settings.fromStartup(Map.of("client_encoding", spelling), Map.of("client_encoding", "UTF8"));
            assertThat(settings.wanted()).as(spelling).isEmpty();
        }
        SessionSettings latin = new SessionSettings();
        latin.fromStartup(Map.of("client_encoding", "latin1"), Map.of("client_encoding", "UTF8"));
        assertThat(latin.wanted()).isEqualTo(Map.of("client_encoding", "LATIN1"));
        assertThat(EncodingNames.canonical("ISO-8859-15")).isEqualTo("LATIN9");
        assertThat(EncodingNames.canonical("win1252")).isEqualTo("WIN1252");
        assertThat(EncodingNames.canonical("sjis")).isEqualTo("SJIS");
        assertThat(EncodingNames.canonical("no-such")).isEqualTo("no-such");
    }

    @Test
    void startupValuesTheServerHasNotYetAcceptedAreSetSkippingWhatItWouldRefuse() {
        SessionSettings settings = new SessionSettings();
        settings.fromStartup(Map.of("timezone", "Europe/Paris", "log_connections", "on"), Map.of());
        assertThat(settings.verified()).isFalse();
        String sql = settings.applyTo(new HashMap<>(), false);
        assertThat(sql).startsWith("SELECT pg_catalog.set_config(v.name, v.setting, false) FROM (VALUES ")
                .contains("('TimeZone', 'Europe/Paris')").contains("('log_connections', 'on')")
                .endsWith("LEFT JOIN pg_catalog.pg_settings s ON s.name = v.name WHERE s.context = 'user' OR "
                        + "s.context = 'superuser' AND pg_catalog.current_setting('is_superuser') = 'on' OR "
                        + "s.name IS NULL AND v.name LIKE '%.%'");
        settings.fromServer(new HashMap<>(Map.of("TimeZone", "Europe/Paris")), Map.of(), null);
        assertThat(settings.verified()).isTrue();
        assertThat(settings.wanted()).as("what the server refused is not carried")
                .isEqualTo(Map.of("TimeZone", "Europe/Paris"));
    }

    @Test
    void differingValuesAreSetAndForeignOnesReset() {
        SessionSettings settings = verified(Map.of("TimeZone", "Europe/Paris", "search_path", "\"$user\", public"));
        Map<String, String> backend = new HashMap<>(Map.of("statement_timeout", "5s"));
        String sql = settings.applyTo(backend, false);
        assertThat(sql).startsWith("RESET \"statement_timeout\"; SELECT ")
                .contains("pg_catalog.set_config('TimeZone', 'Europe/Paris', false)")
                .contains("pg_catalog.set_config('search_path', '\"$user\", public', false)");
        assertThat(backend).isEqualTo(Map.of("TimeZone", "Europe/Paris", "search_path", "\"$user\", public"));
        assertThat(settings.applyTo(backend, false)).as("already matching").isNull();
    }

    @Test
    void aBackendWhoseSettingsAreUnknownStartsFromResetAll() {
        SessionSettings settings = verified(Map.of("application_name", "a"));
        Map<String, String> backend = new HashMap<>(Map.of("application_name", "a"));
        assertThat(settings.applyTo(backend, true))
                .isEqualTo("RESET ALL; SELECT pg_catalog.set_config('application_name', 'a', false)");
        assertThat(new SessionSettings().applyTo(new HashMap<>(), true)).isEqualTo("RESET ALL;");
    }

    @Test
    void quotesAreEscapedInNamesAndValues() {
        SessionSettings settings = verified(Map.of("application_name", "it's"));
        assertThat(settings.applyTo(new HashMap<>(), false))
                .isEqualTo("SELECT pg_catalog.set_config('application_name', 'it''s', false)");
        assertThat(new SessionSettings().applyTo(new HashMap<>(Map.of("my\"app.x", "1")), false))
                .isEqualTo("RESET \"my\"\"app.x\";");
        SessionSettings backslash = verified(Map.of("application_name", "a\\b'c"));
        assertThat(backslash.applyTo(new HashMap<>(), false)).as("whatever standard_conforming_strings is")
                .isEqualTo("SELECT pg_catalog.set_config('application_name', E'a\\\\b''c', false)");
    }

    @Test
    void valuesReadBackFromTheServerReplaceWhatTheClientHadLeavingOutLoginValues() {
        SessionSettings settings = new SessionSettings();
        // The pool's first login knows no login values yet, so keeps what it asked for until its first read-back.
        settings.fromStartup(Map.of("client_encoding", "UTF8", "TimeZone", "UTC"), null);
        assertThat(settings.wanted()).hasSize(2);
        Map<String, String> login = Map.of("client_encoding", "UTF8", "TimeZone", "Etc/UTC");
        settings.fromServer(new HashMap<>(Map.of("client_encoding", "UTF8", "TimeZone", "UTC",
                "default_transaction_read_only", "on")), login, null);
        assertThat(settings.wanted()).isEqualTo(Map.of("TimeZone", "UTC", "default_transaction_read_only", "on"));
    }

    @Test
    void aResetStartupSettingIsSetBackByTheReadBackItself() {
        SessionSettings settings = new SessionSettings();
        settings.fromStartup(Map.of("lock_timeout", "1s", "myapp.x", "1"), Map.of());
        assertThat(settings.readQuery()).startsWith("SELECT s.name, pg_catalog.set_config(s.name, v.setting, false) "
                + "FROM (VALUES ('lock_timeout', '1s')) v (name, setting) JOIN pg_catalog.pg_settings s ON "
                + "s.name = v.name WHERE s.source <> 'session' AND (s.context = 'user' OR ")
                .contains("; SELECT name, pg_catalog.current_setting(name) FROM pg_catalog.pg_settings")
                .endsWith(" UNION ALL SELECT 'myapp.x', pg_catalog.current_setting('myapp.x', true)");
    }

    @Test
    void theReadBackListsSessionSettingsAndNamesCustomOnes() {
        SessionSettings settings = new SessionSettings();
        String plain = settings.readQuery();
        assertThat(plain).contains("FROM pg_catalog.pg_settings WHERE source = 'session'")
                .contains("'transaction_isolation'");
        settings.noteCustom(List.of("myapp.x", "it's.y"));
        assertThat(settings.readQuery()).startsWith(plain)
                .contains(" UNION ALL SELECT 'myapp.x', pg_catalog.current_setting('myapp.x', true)")
                .contains(" UNION ALL SELECT 'it''s.y', pg_catalog.current_setting('it''s.y', true)");
        settings.noteCustom(List.of("other.z"));
        settings.fromServer(new HashMap<>(Map.of("myapp.x", "1")), Map.of(), java.util.Set.of("myapp.x", "it's.y"));
        assertThat(settings.readQuery()).as("still read: the client has it").contains("'myapp.x'")
                .as("set while the read-back was under way").contains("'other.z'").doesNotContain("'it''s.y'");
    }

    private static SessionSettings verified(Map<String, String> wanted) {
        SessionSettings settings = new SessionSettings();
        settings.fromServer(new HashMap<>(wanted), Map.of(), null);
        return settings;
    }

    @Test
    void namesArePostgreSqlsSpelling() {
        assertThat(SessionSettings.canonicalName("timezone")).isEqualTo("TimeZone");
        assertThat(SessionSettings.canonicalName("DATESTYLE")).isEqualTo("DateStyle");
        assertThat(SessionSettings.canonicalName("Statement_Timeout")).isEqualTo("statement_timeout");
    }
}
