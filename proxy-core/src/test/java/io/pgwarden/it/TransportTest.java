package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringSocketChannel;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.pool.BackendPool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * listen.transport: each transport that loads here carries JDBC traffic, and the backend sockets get the keepalive
 * timings and TCP_USER_TIMEOUT of server: on every one (the NIO transport has no TCP_USER_TIMEOUT in JDK 17).
 */
class TransportTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void carriesJdbcTrafficAndSetsTheBackendSocketOptions(String transport) throws Exception {
        Transports.assumeLoads(transport);
        try (TestProxy proxy = TestProxy.start("""
                pool_mode: transaction
                max_size: 2
                server:
                  keepalive: {idle: 17s, interval: 7s, count: 4}
                  tcp_user_timeout: 9s
                """, "transport: " + transport); Connection c = proxy.connect()) {
            try (PreparedStatement p = c.prepareStatement("SELECT sum(g) FROM generate_series(1, ?) g")) {
                for (int i = 1; i <= 50; i++) {
                    p.setInt(1, i * 100);
                    try (ResultSet rs = p.executeQuery()) {
                        rs.next();
                        assertThat(rs.getLong(1)).isEqualTo((long) i * 100 * (i * 100 + 1) / 2);
                    }
                }
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT repeat('x', 1000000)")) {
                rs.next();
                assertThat(rs.getString(1)).hasSize(1_000_000);
            }
            BackendPool pool = proxy.application().pools().pools().iterator().next();
            List<BackendConnection> backends = pool.idleSnapshot();
            assertThat(backends).isNotEmpty();
            for (BackendConnection backend : backends) {
                Channel channel = backend.channel();
                ChannelConfig config = channel.config();
                assertThat(config.getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
                switch (transport) {
                    case "io_uring" -> {
                        assertThat(channel).isInstanceOf(IoUringSocketChannel.class);
                        assertThat(config.getOption(IoUringChannelOption.TCP_KEEPIDLE)).isEqualTo(17);
                        assertThat(config.getOption(IoUringChannelOption.TCP_KEEPINTVL)).isEqualTo(7);
                        assertThat(config.getOption(IoUringChannelOption.TCP_KEEPCNT)).isEqualTo(4);
                        assertThat(config.getOption(IoUringChannelOption.TCP_USER_TIMEOUT)).isEqualTo(9_000);
                    }
                    case "epoll" -> {
                        assertThat(channel).isInstanceOf(EpollSocketChannel.class);
                        assertThat(config.getOption(EpollChannelOption.TCP_KEEPIDLE)).isEqualTo(17);
                        assertThat(config.getOption(EpollChannelOption.TCP_KEEPINTVL)).isEqualTo(7);
                        assertThat(config.getOption(EpollChannelOption.TCP_KEEPCNT)).isEqualTo(4);
                        assertThat(config.getOption(EpollChannelOption.TCP_USER_TIMEOUT)).isEqualTo(9_000);
                    }
                    default -> {
                        assertThat(channel).isInstanceOf(NioSocketChannel.class);
                        assertThat(config.getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE)))
                                .isEqualTo(17);
                        assertThat(config.getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL)))
                                .isEqualTo(7);
                        assertThat(config.getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT)))
                                .isEqualTo(4);
                    }
                }
            }
            System.out.printf("listen.transport %s: 51 queries through it, backend keepalive 17/7/4%s%n", transport,
                    transport.equals("nio") ? " (no TCP_USER_TIMEOUT on NIO)" : ", TCP_USER_TIMEOUT 9000 ms");
        }
    }

    /** listen.reuse_port: a second proxy binds the port the first listens on, and both serve it; without, it cannot. */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll"})
    void reusePortLetsASecondProcessBindTheSamePort(String transport) throws Exception {
        Transports.assumeLoads(transport);
        int port = FreePorts.below32768();
        String listen = "transport: " + transport + "\nport: " + port;
        try (TestProxy first = TestProxy.fromYaml(() -> yaml(listen + "\nreuse_port: true"),
                TestPostgres.shared().port())) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> TestProxy.fromYaml(() -> yaml(listen),
                    TestPostgres.shared().port()).close()).as("without reuse_port").hasStackTraceContaining(
                            "Address already in use");
            try (TestProxy second = TestProxy.fromYaml(() -> yaml(listen + "\nreuse_port: true"),
                    TestPostgres.shared().port())) {
                assertThat(second.port()).isEqualTo(first.port()).isEqualTo(port);
                first.application().stopGracefully();
                // Once the first has closed its socket, every new connection reaches the second.
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                        .until(() -> first.application().context().sessions().drain().isDraining());
                for (int i = 0; i < 5; i++) {
                    try (Connection c = second.connect(); Statement s = c.createStatement();
                         ResultSet rs = s.executeQuery("SELECT 1")) {
                        assertThat(rs.next()).isTrue();
                    }
                }
            }
        }
    }

    private static String yaml(String listenExtra) {
        return """
                listen:
                  host: 127.0.0.1
                %s
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                users:
                  app:
                    password: ${APP_PASSWORD}
                """.formatted(listenExtra.indent(2).stripTrailing());
    }

    @Test
    void theTransportInUseIsInShowConfig() throws Exception {
        String yaml = """
                listen:
                  host: 127.0.0.1
                  port: 0
                  transport: auto
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                users:
                  app:
                    password: ${APP_PASSWORD}
                admin:
                  users: [app]
                """;
        java.util.Properties simple = new java.util.Properties();
        simple.setProperty("preferQueryMode", "simple");
        try (TestProxy proxy = TestProxy.fromYaml(() -> yaml, TestPostgres.shared().port());
             Connection console = proxy.connect("pgwarden", "app", TestPostgres.APP_PASSWORD, simple);
             Statement s = console.createStatement(); ResultSet rs = s.executeQuery("SHOW CONFIG")) {
            String transport = null;
            String reusePort = null;
            while (rs.next()) {
                if (rs.getString(1).equals("listen.transport")) {
                    transport = rs.getString(2);
                } else if (rs.getString(1).equals("listen.reuse_port")) {
                    reusePort = rs.getString(2);
                }
            }
            assertThat(transport).isEqualTo("auto (" + proxy.application().transportInUse() + ")")
                    .matches("auto \\((io_uring|epoll|nio)\\)");
            assertThat(reusePort).isEqualTo("false");
        }
    }

    /** A transport named explicitly that cannot load is a startup error naming the key and the reason. */
    @Test
    void anExplicitTransportThatCannotLoadStopsTheStartAndAutoFallsBack() throws Exception {
        for (String transport : List.of("io_uring", "epoll")) {
            Result result = runPgwarden("transport: " + transport);
            assertThat(result.exit()).as("exit code with %s refused", transport).isEqualTo(2);
            assertThat(result.output()).contains("listen.transport: " + transport + " cannot be used here")
                    .contains("noNative");
        }
        Result reusePort = runPgwarden("reuse_port: true");
        assertThat(reusePort.exit()).isEqualTo(2);
        assertThat(reusePort.output()).contains("listen.reuse_port: true needs the io_uring or epoll transport")
                .contains("event=transport_fallback");
    }

    private record Result(int exit, String output) {
    }

    /** pgwarden in a JVM of its own in which no native transport loads (-Dio.netty.transport.noNative=true). */
    private Result runPgwarden(String listenExtra) throws Exception {
        Path config = dir.resolve("pgwarden.yaml");
        Files.writeString(config, """
                listen:
                  host: 127.0.0.1
                  port: 0
                  %s
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: %d
                users:
                  app:
                    password: secret
                """.formatted(listenExtra, TestPostgres.shared().port()));
        Path log = dir.resolve("pgwarden.log");
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dio.netty.transport.noNative=true", "-cp", System.getProperty("java.class.path"), "io.pgwarden.Main",
                "-c", config.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("pgwarden exited").isTrue();
            return new Result(process.exitValue(), Files.readString(log));
        } finally {
            process.destroyForcibly();
        }
    }
}
