package io.pgwarden.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendConnector;
import io.pgwarden.backend.LossCounters;
import io.pgwarden.backend.ServerRole;
import io.pgwarden.config.ClusterSettings;
import io.pgwarden.config.HostPort;
import io.pgwarden.config.ServerSettings;
import io.pgwarden.config.TargetSessionAttrs;
import io.pgwarden.it.ReplicatedPostgres;
import io.pgwarden.it.TestPostgres;
import io.pgwarden.metrics.EventLog;
import io.pgwarden.net.FatalErrorGuard;
import io.pgwarden.net.Transport;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The role query against a real primary (A) and its streaming standby (B): the opener here ignores what PostgreSQL
 * 17 reports at login and asks, as it asks a server before 14, so the question and its parsing meet real answers.
 */
class RoleQueryReplicatedTest {

    private static ReplicatedPostgres servers;
    private static EventLoopGroup loops;
    private static BackendConnector connector;

    @BeforeAll
    static void start() throws Exception {
        servers = ReplicatedPostgres.start();
        Transport transport = Transport.best();
        loops = transport.newEventLoopGroup(1, "role-query-test");
        connector = new BackendConnector(transport, 1 << 30, new WriteBufferWaterMark(64 * 1024, 256 * 1024),
                new LossCounters(), (pool, detail) -> {
        }, new FatalErrorGuard(status -> {
            throw new AssertionError("halt " + status);
        }));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (loops != null) {
                loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
        } finally {
            if (servers != null) {
                servers.close();
            }
        }
    }

    private static HostPort host(ReplicatedPostgres.Node node) {
        return new HostPort("127.0.0.1", servers.port(node));
    }

    /** A database listing A then B whose opener asks each server its role. */
    private static ClusterOpener opener(TargetSessionAttrs attrs) {
        return new ClusterOpener(connector, new Cluster("appdb", new ClusterSettings(
                List.of(host(servers.a()), host(servers.b())), attrs, ClusterSettings.DEFAULT_FAILOVER_TIMEOUT),
                new EventLog(10)), true);
    }

    private static BackendConnection open(ClusterOpener opener, ServerSettings server) throws Exception {
        HostPort a = host(servers.a());
        return opener.connect(loops.next(), new BackendConnector.Target(a.host(), a.port(), "appdb", "app",
                TestPostgres.APP_PASSWORD, server)).get(20, TimeUnit.SECONDS);
    }

    private static BackendConnection open(TargetSessionAttrs attrs) throws Exception {
        ClusterOpener opener = opener(attrs);
        try {
            return open(opener, ServerSettings.defaults());
        } finally {
            opener.stop();
        }
    }

    private static void assertOpensOn(TargetSessionAttrs attrs, ReplicatedPostgres.Node node, ServerRole role)
            throws Exception {
        BackendConnection backend = open(attrs);
        try {
            assertThat(backend.serverAddress().getPort()).as(attrs.configName()).isEqualTo(servers.port(node));
            assertThat(backend.roleAtLogin()).as(attrs.configName()).isEqualTo(role);
        } finally {
            backend.close("test done");
        }
    }

    @Test
    void eachTargetFindsItsServerByAskingAndAFencedPrimaryAnswersReadOnly() throws Exception {
        ServerRole primary = new ServerRole(false, false);
        ServerRole standby = new ServerRole(true, true);
        assertOpensOn(TargetSessionAttrs.READ_WRITE, servers.a(), primary);
        assertOpensOn(TargetSessionAttrs.STANDBY, servers.b(), standby);
        assertOpensOn(TargetSessionAttrs.READ_ONLY, servers.b(), standby);

        servers.setReadOnly(servers.a(), true);
        try {
            ServerRole fenced = new ServerRole(false, true);
            assertOpensOn(TargetSessionAttrs.PRIMARY, servers.a(), fenced);
            assertOpensOn(TargetSessionAttrs.READ_ONLY, servers.a(), fenced);
        } finally {
            servers.setReadOnly(servers.a(), false);
        }
    }

    @Test
    void theBackgroundProbeOfTheOtherHostLearnsItsRoleByAskingToo() throws Exception {
        ServerSettings d = ServerSettings.defaults();
        ServerSettings probing = new ServerSettings(d.keepalive(), d.tcpUserTimeout(), d.checkQuery(), d.checkDelay(),
                d.checkTimeout(), Duration.ofMillis(100), d.lifetime(), d.idleTimeout(), d.connectTimeout(),
                d.replayCheckAfter());
        ClusterOpener opener = opener(TargetSessionAttrs.READ_WRITE);
        try {
            open(opener, probing).close("test done");
            HostPort b = host(servers.b());
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(opener.cluster().snapshot().hosts())
                    .filteredOn(state -> state.host().equals(b))
                    .singleElement().satisfies(state -> assertThat(state.role()).isEqualTo(new ServerRole(true, true))));
        } finally {
            opener.stop();
        }
    }
}
