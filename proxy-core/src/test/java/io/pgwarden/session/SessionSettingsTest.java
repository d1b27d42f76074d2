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
    void differingValuesAreSetAndForeignOnesReset() {
        SessionSettings settings = new SessionSettings();
        settings.fromStartup(Map.of("timezone", "Europe/Paris", "search_path", "\"$user\", public"), Map.of());
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
        SessionSettings settings = new SessionSettings();
        settings.fromStartup(Map.of("application_name", "a"), Map.of());
        Map<String, String> backend = new HashMap<>(Map.of("application_name", "a"));
        assertThat(settings.applyTo(backend, true))
                .isEqualTo("RESET ALL; SELECT pg_catalog.set_config('application_name', 'a', false)");
        assertThat(new SessionSettings().applyTo(new HashMap<>(), true)).isEqualTo("RESET ALL;");
    }

    @Test
    void quotesAreEscapedInNamesAndValues() {
        SessionSettings settings = new SessionSettings();
        settings.fromStartup(Map.of("application_name", "it's"), null);
        assertThat(settings.applyTo(new HashMap<>(), false))
                .isEqualTo("SELECT pg_catalog.set_config('application_name', 'it''s', false)");
        assertThat(new SessionSettings().applyTo(new HashMap<>(Map.of("my\"app.x", "1")), false))
                .isEqualTo("RESET \"my\"\"app.x\";");
        SessionSettings backslash = new SessionSettings();
        backslash.fromStartup(Map.of("application_name", "a\\b'c"), null);
        assertThat(backslash.applyTo(new HashMap<>(), false)).as("whatever standard_conforming_strings is")
                .isEqualTo("SELECT pg_catalog.set_config('application_name', E'a\\\\b''c', false)");
    }

    @Test
    void valuesReadBackFromTheServerReplaceWhatTheClientHad() {
        SessionSettings settings = new SessionSettings();
        settings.fromStartup(Map.of("TimeZone", "UTC", "lock_timeout", "1s"), null);
        settings.fromServer(new HashMap<>(Map.of("TimeZone", "Asia/Tokyo", "default_transaction_read_only", "on")),
                Map.of(), null);
        // lock_timeout came from the startup packet and is gone: the client ran RESET, which returns to it.
        assertThat(settings.wanted()).isEqualTo(Map.of("TimeZone", "Asia/Tokyo",
                "default_transaction_read_only", "on", "lock_timeout", "1s"));
        settings.fromServer(new HashMap<>(), Map.of(), null);
        assertThat(settings.wanted()).isEqualTo(Map.of("TimeZone", "UTC", "lock_timeout", "1s"));
    }

    @Test
    void valuesEqualToTheLoginValuesAreNotCarried() {
        SessionSettings settings = new SessionSettings();
        // The pool's first login knows no login values yet, so keeps what it asked for until its first read-back.
        settings.fromStartup(Map.of("client_encoding", "UTF8", "TimeZone", "UTC"), null);
        assertThat(settings.wanted()).hasSize(2);
        Map<String, String> login = Map.of("client_encoding", "UTF8", "TimeZone", "Etc/UTC");
        settings.fromServer(new HashMap<>(Map.of("client_encoding", "UTF8", "TimeZone", "UTC")), login, null);
        assertThat(settings.wanted()).isEqualTo(Map.of("TimeZone", "UTC"));
        settings.fromServer(new HashMap<>(Map.of("client_encoding", "UTF8")), login, null);
        assertThat(settings.wanted()).as("TimeZone was RESET: back to its startup value")
                .isEqualTo(Map.of("TimeZone", "UTC"));
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

    @Test
    void namesArePostgreSqlsSpelling() {
        assertThat(SessionSettings.canonicalName("timezone")).isEqualTo("TimeZone");
        assertThat(SessionSettings.canonicalName("DATESTYLE")).isEqualTo("DateStyle");
        assertThat(SessionSettings.canonicalName("Statement_Timeout")).isEqualTo("statement_timeout");
    }
}
