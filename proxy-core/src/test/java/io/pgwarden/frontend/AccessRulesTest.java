package io.pgwarden.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.config.AccessRule;
import io.pgwarden.config.AuthMethod;
import io.pgwarden.config.ConfigLoader;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** First match wins, over database, user, address and encryption; no match refuses. */
class AccessRulesTest {

    private static List<AccessRule> rules(String access) throws Exception {
        return new ConfigLoader(Map.of()).parse("""
                databases: {appdb: {}, reports: {}}
                users: {app: {password: pw}, ann: {password: pw}}
                access:
                """ + access.indent(2), "test.yaml").access();
    }

    private static String decide(List<AccessRule> rules, String database, String user, String host, boolean tls) {
        AccessRules.Verdict verdict = AccessRules.decide(rules, database, user, new InetSocketAddress(host, 5000), tls);
        return verdict.ruleLabel() + " " + verdict.method().yamlName();
    }

    @Test
    void theFirstMatchingRuleDecides() throws Exception {
        List<AccessRule> rules = rules("""
                - {address: 10.9.0.0/16, method: reject}
                - {database: reports, user: [ann], method: md5}
                - {user: app, tls: required, method: scram-sha-256}
                - {user: app, tls: none, address: 127.0.0.0/8, method: cleartext}
                - {address: "::1", method: scram-sha-256}
                """);
        assertThat(decide(rules, "reports", "ann", "10.9.1.1", false)).isEqualTo("0 reject");
        assertThat(decide(rules, "reports", "ann", "10.8.1.1", false)).isEqualTo("1 md5");
        assertThat(decide(rules, "appdb", "ann", "10.8.1.1", false)).isEqualTo("none reject");
        assertThat(decide(rules, "appdb", "app", "10.8.1.1", true)).isEqualTo("2 scram-sha-256");
        assertThat(decide(rules, "appdb", "app", "127.0.0.2", false)).isEqualTo("3 cleartext");
        assertThat(decide(rules, "appdb", "app", "10.8.1.1", false)).isEqualTo("none reject");
        assertThat(decide(rules, "appdb", "ann", "::1", false)).isEqualTo("4 scram-sha-256");
    }

    @Test
    void withoutRulesTheUsersOwnAuthApplies() {
        AccessRules.Verdict verdict = AccessRules.decide(List.of(), "appdb", "app",
                new InetSocketAddress("10.0.0.1", 5000), false);
        assertThat(verdict.refused()).isFalse();
        assertThat(verdict.passwordMethod()).isNull();
    }

    @Test
    void anAllowRuleNamesThePasswordExchange() throws Exception {
        AccessRules.Verdict verdict = AccessRules.decide(rules("- {method: md5}"), "appdb", "app",
                new InetSocketAddress("10.0.0.1", 5000), false);
        assertThat(verdict.passwordMethod()).isEqualTo(AuthMethod.MD5);
    }

    @Test
    void theRefusalNamesTheConnectionNeverTheRule() {
        assertThat(AccessRules.refusal("appdb", "x", new InetSocketAddress("127.0.0.2", 5000), false).message())
                .isEqualTo("pgwarden: no access for host \"127.0.0.2\", user \"x\", database \"appdb\", no encryption");
        assertThat(AccessRules.refusal("appdb", "x", new InetSocketAddress("::1", 5000), true).message())
                .isEqualTo("pgwarden: no access for host \"0:0:0:0:0:0:0:1\", user \"x\", database \"appdb\","
                        + " SSL encryption");
    }
}
