package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which secrets a file spells out itself: those are what a file readable by others gives away. */
class SecretsInFileTest {

    private final ConfigLoader loader = new ConfigLoader(Map.of("APP_PASSWORD", "s3cret", "TOKEN", "t0ken"));

    @Test
    void namesThePasswordsAndTokenWrittenInTheFileButNotThoseTakenWholeFromTheEnvironment() throws Exception {
        LoadedConfig loaded = loader.read("""
                databases:
                  appdb: {}
                users:
                  app:
                    password: ${APP_PASSWORD}
                  literal:
                    password: in-the-file
                  prefixed:
                    password: pre-${APP_PASSWORD}
                  defaulted:
                    password: ${UNSET:-fallback}
                  env_over_default:
                    password: ${APP_PASSWORD:-fallback}
                admin:
                  http:
                    metrics_token: ${TOKEN}
                """, "test");

        assertThat(loaded.secretsInFile()).containsExactly(
                "users.literal.password", "users.prefixed.password", "users.defaulted.password");
        assertThat(loaded.config().user("env_over_default").orElseThrow().password()).isEqualTo("s3cret");
    }

    @Test
    void aTokenWrittenInTheFileCountsToo() throws Exception {
        LoadedConfig loaded = loader.read("""
                databases:
                  appdb: {}
                users:
                  app:
                    password: ${APP_PASSWORD}
                admin:
                  http:
                    metrics_token: plain
                """, "test");

        assertThat(loaded.secretsInFile()).containsExactly("admin.http.metrics_token");
    }
}
