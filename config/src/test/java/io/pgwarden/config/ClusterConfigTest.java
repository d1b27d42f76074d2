package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterConfigTest {

    private final ConfigLoader loader = new ConfigLoader(Map.of());

    private ProxyConfig load(String database) throws ConfigException {
        return loader.parse("databases:\n  appdb:\n" + database.indent(4) + "users:\n  app: {password: pw}\n", "t");
    }

    private List<String> problems(String database) {
        return catchThrowableOfType(() -> load(database), ConfigException.class).problems();
    }

    @Test
    void severalHostsDefaultToReadWriteInListedOrder() throws ConfigException {
        ClusterSettings cluster = load("hosts: [10.0.0.1:5432, 'db2:5433', '[::1]:6000', db4]\nport: 5444")
                .database("appdb").orElseThrow().cluster();

        assertThat(cluster.hosts()).containsExactly(new HostPort("10.0.0.1", 5432), new HostPort("db2", 5433),
                new HostPort("::1", 6000), new HostPort("db4", 5444));
        assertThat(cluster.targetSessionAttrs()).isEqualTo(TargetSessionAttrs.READ_WRITE);
        assertThat(cluster.failoverTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(cluster.hosts().get(2)).hasToString("[::1]:6000");
    }

    @Test
    void oneHostKeepsMeaningAnyServer() throws ConfigException {
        DatabaseConfig db = load("host: db1\nport: 5433").database("appdb").orElseThrow();

        assertThat(db.cluster().hosts()).containsExactly(new HostPort("db1", 5433));
        assertThat(db.cluster().targetSessionAttrs()).isEqualTo(TargetSessionAttrs.ANY);
        assertThat(db.host()).isEqualTo("db1");
        assertThat(db.port()).isEqualTo(5433);
    }

    @Test
    void readsTargetSessionAttrsAndFailoverTimeout() throws ConfigException {
        ClusterSettings cluster = load("hosts: [a:1, b:2]\ntarget_session_attrs: prefer-standby\n"
                + "failover_timeout: 45s").database("appdb").orElseThrow().cluster();

        assertThat(cluster.targetSessionAttrs()).isEqualTo(TargetSessionAttrs.PREFER_STANDBY);
        assertThat(cluster.failoverTimeout()).isEqualTo(Duration.ofSeconds(45));
    }

    @Test
    void badHostListsNameTheirPath() {
        assertThat(problems("hosts: [a:1, a:1, 'b:x', ':5', '[::1', 'c:70000']")).containsExactly(
                "databases.appdb.hosts[1]: a:1 is listed twice",
                "databases.appdb.hosts[2]: 'b:x' has no valid port; expected a number from 1 to 65535 after the colon",
                "databases.appdb.hosts[3]: ':5' has no host name",
                "databases.appdb.hosts[4]: '[::1' is not host:port; write an IPv6 address as [::1]:5432",
                "databases.appdb.hosts[5]: 'c:70000' has no valid port; expected a number from 1 to 65535 after "
                        + "the colon");
        assertThat(problems("hosts: []")).containsExactly("databases.appdb.hosts: must list at least one host:port");
        assertThat(problems("host: a\nhosts: [b:1]")).containsExactly(
                "databases.appdb.host: cannot be given together with databases.appdb.hosts; list every server under "
                        + "hosts");
        assertThat(problems("hosts: a:1")).singleElement().asString().startsWith("databases.appdb.hosts: ")
                .contains("a list of host:port addresses");
    }

    @Test
    void unknownTargetSessionAttrsListsTheValidOnes() {
        assertThat(problems("hosts: [a:1, b:2]\ntarget_session_attrs: master")).containsExactly(
                "databases.appdb.target_session_attrs: 'master' is not one of any, read-write, read-only, primary, "
                        + "standby, prefer-standby");
        assertThat(problems("failover_timeout: 0s")).singleElement().asString()
                .startsWith("databases.appdb.failover_timeout: ");
    }

    @Test
    void theAnyDatabaseEntryTakesHostsToo() throws ConfigException {
        ProxyConfig config = loader.parse("databases:\n  \"*\":\n    hosts: [a:1, b:2]\nusers:\n  app: {password: pw}\n",
                "t");

        assertThat(config.anyDatabase().forName("x").cluster().hosts()).hasSize(2);
    }
}
