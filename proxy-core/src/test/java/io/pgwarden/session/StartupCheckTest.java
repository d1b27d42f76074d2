package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which startup settings a login must have PostgreSQL try before the client may log in. */
class StartupCheckTest {

    /** pgjdbc's startup packet. */
    private static Map<String, String> pgjdbc() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("user", "app");
        p.put("database", "appdb");
        p.put("client_encoding", "UTF8");
        p.put("DateStyle", "ISO");
        p.put("TimeZone", "Etc/UTC");
        p.put("extra_float_digits", "2");
        p.put("application_name", "PostgreSQL JDBC Driver");
        return p;
    }

    private static final Map<String, String> SERVER = Map.of("client_encoding", "UTF8", "DateStyle", "ISO, MDY",
            "TimeZone", "Etc/UTC", "application_name", "");

    @Test
    void aDriversParametersAreTriedOncePerPoolThenNeverAgain() {
        PoolClients pool = new PoolClients();
        StartupCheck first = StartupCheck.of(pgjdbc(), SERVER, pool);
        assertThat(first.pairs()).as("what the server's ParameterStatus does not vouch for")
                .containsExactly(Map.entry("DateStyle", "ISO"), Map.entry("extra_float_digits", "2"));
        first.pairs().forEach(p -> pool.acceptAtStartup(p.getKey(), p.getValue()));
        Map<String, String> another = pgjdbc();
        another.put("application_name", "some other application");
        assertThat(StartupCheck.of(another, SERVER, pool)).isNull();
        another.put("datestyle", "German");
        assertThat(StartupCheck.of(another, SERVER, pool).pairs()).containsExactly(Map.entry("datestyle", "German"));
    }

    @Test
    void optionsComeFirstAsPostgresqlAppliesThem() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("user", "app");
        p.put("work_mem", "abc");
        p.put("options", "-c foo=bar --lock-timeout=1s");
        assertThat(StartupCheck.of(p, null, new PoolClients()).pairs()).containsExactly(Map.entry("foo", "bar"),
                Map.entry("lock_timeout", "1s"), Map.entry("work_mem", "abc"));
    }
}
