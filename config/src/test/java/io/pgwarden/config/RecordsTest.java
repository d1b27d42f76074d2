package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecordsTest {

    @Test
    void userToStringHidesThePassword() {
        UserConfig user = new UserConfig("app", "s3cret", AuthMethod.MD5);
        assertThat(user.toString()).contains("app", "***", "MD5").doesNotContain("s3cret");
    }

    @Test
    void proxyConfigCopiesMapsKeepingOrderAndRejectsChanges() {
        Map<String, DatabaseConfig> databases = new LinkedHashMap<>();
        for (String name : new String[] {"zeta", "alpha", "mid"}) {
            databases.put(name, new DatabaseConfig(name, "h", 5432, name, PoolSettings.defaults()));
        }
        Map<String, UserConfig> users = new LinkedHashMap<>(Map.of("u", new UserConfig("u", "p", AuthMethod.MD5)));
        ProxyConfig config = new ProxyConfig(new ListenConfig("127.0.0.1", 0, 10), PoolSettings.defaults(),
                databases, users, AdminConfig.defaults());

        databases.clear();
        users.clear();

        assertThat(config.databases()).containsOnlyKeys("zeta", "alpha", "mid");
        assertThat(config.databases().keySet()).containsExactly("zeta", "alpha", "mid");
        assertThat(config.user("u")).isPresent();
        assertThat(config.database("nope")).isEmpty();
        assertThatThrownBy(() -> config.databases().remove("zeta")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> config.users().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void poolSettingsDefaultsMatchTheDocumentedValues() {
        PoolSettings defaults = PoolSettings.defaults();
        assertThat(defaults.poolMode()).isEqualTo(PoolMode.TRANSACTION);
        assertThat(defaults.minSize()).isZero();
        assertThat(defaults.maxSize()).isEqualTo(20);
        assertThat(defaults.queryWaitTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(defaults.serverResetQuery()).isEqualTo("DISCARD ALL");
        assertThat(defaults.maxPreparedStatements()).isEqualTo(200);
        assertThat(defaults.server()).isEqualTo(ServerSettings.defaults());
        assertThat(defaults.client()).isEqualTo(ClientSettings.defaults());
        assertThat(defaults.queryTimeout()).isZero();
        assertThat(defaults.queryWaitNotice()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void authMethodsUseTheirYamlSpelling() {
        assertThat(AuthMethod.SCRAM_SHA_256.yamlName()).isEqualTo("scram-sha-256");
        assertThat(AuthMethod.MD5.yamlName()).isEqualTo("md5");
        assertThat(AuthMethod.CLEARTEXT.yamlName()).isEqualTo("cleartext");
    }

    @Test
    void workerThreadsDefaultToOnePerTwoCpusAndAnExplicitCountWins() throws ConfigException {
        ListenConfig auto = new ListenConfig("127.0.0.1", 0, 10);
        assertThat(auto.workerThreads(1)).isEqualTo(1);
        assertThat(auto.workerThreads(2)).isEqualTo(1);
        assertThat(auto.workerThreads(8)).isEqualTo(4);
        ListenConfig three = new ConfigLoader(Map.of("APP_PASSWORD", "x")).parse(ConfigLoaderTest.MINIMAL + "listen: {worker_threads: 3}\n",
                "test").listen();
        assertThat(three.workerThreads(8)).isEqualTo(3);
        assertThat(three.workerThreads(1)).isEqualTo(3);
    }
}
