package io.pgwarden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;

/**
 * Issue 18: the image built from the repository's Dockerfile runs in front of PostgreSQL as it would in production:
 * as uid 10001, on a read-only root file system with a tmpfs /tmp, its config mounted read-only, the password from
 * the environment, and JDBC reaches PostgreSQL through it. Needs a Docker engine (DOCKER_HOST or
 * /var/run/docker.sock) and pulls postgres:17 and the Dockerfile's base images; where none answers, it is skipped
 * with that reason, as on the machines that run this project's CI.
 */
class ContainerImageTest {

    private static final String CONFIG = """
            listen:
              host: 0.0.0.0
              port: 6432
            databases:
              appdb:
                host: postgres
                port: 5432
            users:
              app:
                password: ${APP_PASSWORD}
            admin:
              http:
                host: 0.0.0.0
                port: 9187
            """;

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    @Test
    void jdbcReachesPostgresThroughTheImageBuiltFromTheDockerfile() throws Exception {
        String reason = "no Docker engine answers (DOCKER_HOST or /var/run/docker.sock), so the image is not built";
        boolean docker = dockerAvailable();
        if (!docker) {
            System.out.println("ContainerImageTest skipped: " + reason);
        }
        Assumptions.assumeTrue(docker, reason);

        Path root = Path.of("..").toAbsolutePath().normalize();
        Path config = Files.createTempFile("pgwarden-image-test", ".yaml");
        Files.writeString(config, CONFIG);
        // The container's user is not the file's owner.
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
        String password = "image-test-secret";
        try (Network network = Network.newNetwork();
             PostgreSQLContainer<?> postgres = new PostgreSQLContainer<>("postgres:17")
                     .withNetwork(network).withNetworkAliases("postgres")
                     .withDatabaseName("appdb").withUsername("app").withPassword(password);
             GenericContainer<?> pgwarden = new GenericContainer<>(
                     new ImageFromDockerfile().withDockerfile(root.resolve("Dockerfile")))
                     .withNetwork(network)
                     .withEnv("APP_PASSWORD", password)
                     .withFileSystemBind(config.toString(), "/etc/pgwarden/pgwarden.yaml", BindMode.READ_ONLY)
                     .withTmpFs(Map.of("/tmp", "rw,exec,size=64m"))
                     .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withReadonlyRootfs(true))
                     .withExposedPorts(6432, 9187)
                     .waitingFor(Wait.forHttp("/ready").forPort(9187).forStatusCode(200)
                             .withStartupTimeout(Duration.ofMinutes(2)))) {
            postgres.start();
            pgwarden.start();

            String url = "jdbc:postgresql://" + pgwarden.getHost() + ":" + pgwarden.getMappedPort(6432) + "/appdb";
            try (Connection c = DriverManager.getConnection(url, "app", password); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE image_test (v int)");
                s.execute("INSERT INTO image_test VALUES (42)");
                try (ResultSet rs = s.executeQuery("SELECT v, current_user FROM image_test")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(42);
                    assertThat(rs.getString(2)).isEqualTo("app");
                }
            }
            assertThat(pgwarden.execInContainer("id", "-u").getStdout().strip()).isEqualTo("10001");
            // The tmpfs /tmp lets Netty load its native transport despite the read-only root.
            assertThat(pgwarden.getLogs()).contains("transport=epoll");
            await().atMost(Duration.ofSeconds(90)).until(() -> "healthy".equals(pgwarden.getDockerClient()
                    .inspectContainerCmd(pgwarden.getContainerId()).exec().getState().getHealth().getStatus()));
        } finally {
            Files.deleteIfExists(config);
        }
    }
}
