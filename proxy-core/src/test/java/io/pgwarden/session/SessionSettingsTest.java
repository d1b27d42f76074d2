package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The statement that makes a shared backend carry exactly one client's settings. */
class SessionSettingsTest {

    @Test
    void startupValuesEqualToTheServersNeedNoStatement() {
        SessionSettings settings = new SessionSettings();
        settings.fromStartup(Map.of("client_encoding", "UTF8", "user", "app"), Map.of("client_encoding", "UTF8"));
        assertThat(settings.applyTo(new HashMap<>())).isNull();
    }

    @Test
    void differingValuesAreSetAndForeignOnesReset() {
        SessionSettings settings = new SessionSettings();
        settings.fromStartup(Map.of("timezone", "Europe/Paris", "search_path", "\"$user\", public"), Map.of());
        Map<String, String> backend = new HashMap<>(Map.of("statement_timeout", "5s"));
        String sql = settings.applyTo(backend);
        assertThat(sql).startsWith("RESET \"statement_timeout\"; SELECT ")
                .contains("set_config('TimeZone', 'Europe/Paris', false)")
                .contains("set_config('search_path', '\"$user\", public', false)");
        assertThat(backend).isEqualTo(Map.of("TimeZone", "Europe/Paris", "search_path", "\"$user\", public"));
        assertThat(settings.applyTo(backend)).as("already matching").isNull();
    }

    @Test
    void quotesAreEscapedInValues() {
        SessionSettings settings = new SessionSettings();
        settings.fromStartup(Map.of("application_name", "it's"), null);
        assertThat(settings.applyTo(new HashMap<>())).isEqualTo("SELECT set_config('application_name', 'it''s', false)");
    }

    @Test
    void valuesReadBackFromTheServerReplaceWhatTheClientHad() {
        SessionSettings settings = new SessionSettings();
        settings.fromStartup(Map.of("TimeZone", "UTC"), null);
        List<String> values = new java.util.ArrayList<>();
        for (String name : SessionSettings.TRACKED) {
            values.add(name.equals("TimeZone") ? "Asia/Tokyo" : "v-" + name);
        }
        settings.fromServer(values);
        assertThat(settings.wanted()).containsEntry("TimeZone", "Asia/Tokyo").hasSize(SessionSettings.TRACKED.size());
        assertThat(SessionSettings.readQuery()).startsWith("SELECT current_setting('application_name')");
    }
}
