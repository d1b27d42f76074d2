package io.pgwarden.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real HttpEndpoints on an ephemeral loopback port, exercised with java.net.http. */
class HttpEndpointsTest {

    private static final PoolView APP = new PoolView("app", "alice", "transaction",
            3, 5, 1, 2, 4, 6, 1, 2, 20,
            1500, 1000, 2500, 123456, 654321,
            false, true, "ok");
    private static final PoolView REPORTS = new PoolView("reports", "bob \"the\" builder", "session",
            0, 1, 0, 0, 0, 1, 0, 0, 5,
            0, 7, 9, 10, 20,
            true, true, null);

    private final AtomicReference<List<PoolView>> pools = new AtomicReference<>(List.of(APP, REPORTS));
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private ProxyMetrics metrics;
    private HttpEndpoints endpoints;

    @BeforeEach
    void start() throws IOException {
        metrics = new ProxyMetrics(pools::get, () -> Map.of("terminated_by_administrator", 4L, "network_error", 2L));
        endpoints = HttpEndpoints.start("127.0.0.1", 0, metrics, pools::get);
    }

    @AfterEach
    void stop() {
        endpoints.close();
    }

    @Test
    void metricsExposePoolStateAsParseableText() throws Exception {
        HttpResponse<String> response = get("/metrics");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/plain").contains("version=0.0.4"));
        PrometheusText text = PrometheusText.parse(response.body());
        assertThat(text.types).containsEntry("pgwarden_clients", "gauge")
                .containsEntry("pgwarden_servers", "gauge")
                .containsEntry("pgwarden_transactions_total", "counter")
                .containsEntry("pgwarden_backend_losses_total", "counter");
        assertThat(text.get("pgwarden_clients", "database", "app", "user", "alice", "state", "active")).isEqualTo(3.0);
        assertThat(text.get("pgwarden_clients", "database", "app", "user", "alice", "state", "idle")).isEqualTo(5.0);
        assertThat(text.get("pgwarden_clients", "database", "app", "user", "alice", "state", "idle_in_transaction"))
                .isEqualTo(1.0);
        assertThat(text.get("pgwarden_clients", "database", "app", "user", "alice", "state", "waiting")).isEqualTo(2.0);
        assertThat(text.get("pgwarden_servers", "database", "app", "user", "alice", "state", "active")).isEqualTo(4.0);
        assertThat(text.get("pgwarden_servers", "database", "app", "user", "alice", "state", "idle")).isEqualTo(6.0);
        assertThat(text.get("pgwarden_servers", "database", "app", "user", "alice", "state", "testing")).isEqualTo(1.0);
        assertThat(text.get("pgwarden_servers", "database", "app", "user", "alice", "state", "opening")).isEqualTo(2.0);
        assertThat(text.get("pgwarden_pool_max_size", "database", "app", "user", "alice")).isEqualTo(20.0);
        assertThat(text.get("pgwarden_client_longest_wait_seconds", "database", "app", "user", "alice"))
                .isEqualTo(1.5);
        assertThat(text.get("pgwarden_transactions_total", "database", "app", "user", "alice")).isEqualTo(1000.0);
        assertThat(text.get("pgwarden_queries_total", "database", "app", "user", "alice")).isEqualTo(2500.0);
        assertThat(text.get("pgwarden_bytes_received_total", "database", "app", "user", "alice")).isEqualTo(123456.0);
        assertThat(text.get("pgwarden_bytes_sent_total", "database", "app", "user", "alice")).isEqualTo(654321.0);
        assertThat(text.get("pgwarden_pool_paused", "database", "app", "user", "alice")).isEqualTo(0.0);
        // The quoted user proves label values are escaped in a way the parser reads back exactly.
        assertThat(text.get("pgwarden_pool_paused", "database", "reports", "user", "bob \"the\" builder"))
                .isEqualTo(1.0);
        assertThat(text.get("pgwarden_backend_losses_total", "reason", "terminated_by_administrator")).isEqualTo(4.0);
        assertThat(text.get("pgwarden_backend_losses_total", "reason", "network_error")).isEqualTo(2.0);
    }

    @Test
    void metricsFollowTheSuppliersOnEveryScrape() throws Exception {
        pools.set(List.of(APP));
        PrometheusText first = PrometheusText.parse(get("/metrics").body());
        pools.set(List.of());
        PrometheusText second = PrometheusText.parse(get("/metrics").body());

        assertThat(first.get("pgwarden_pool_max_size", "database", "app", "user", "alice")).isEqualTo(20.0);
        assertThat(second.samples.keySet()).noneMatch(k -> k.startsWith("pgwarden_pool_max_size"));
    }

    @Test
    void eventCountersAndWaitHistogramAppear() throws Exception {
        metrics.waitHistogram("app", "alice").observe(0.003);
        metrics.waitHistogram("app", "alice").observe(0.2);
        metrics.waitHistogram("app", "alice").observe(500);
        metrics.timeoutFired("query_wait");
        metrics.timeoutFired("query_wait");
        metrics.timeoutFired("login");
        metrics.replayedRequest();
        metrics.reconnectAttempt("app", true);
        metrics.reconnectAttempt("app", false);
        metrics.reconnectAttempt("app", false);
        metrics.healthCheck(true);
        metrics.healthCheck(false);
        metrics.configReload(true);
        metrics.clientKilled("admin_kill");
        metrics.clientErrorFromServerLoss(ServerLossMoment.REQUEST_AFTER_CHECK);

        PrometheusText text = PrometheusText.parse(get("/metrics").body());

        assertThat(text.types).containsEntry("pgwarden_client_wait_seconds", "histogram");
        String bucket = "pgwarden_client_wait_seconds_bucket";
        assertThat(text.get(bucket, "database", "app", "user", "alice", "le", "0.001")).isEqualTo(0.0);
        assertThat(text.get(bucket, "database", "app", "user", "alice", "le", "0.005")).isEqualTo(1.0);
        assertThat(text.get(bucket, "database", "app", "user", "alice", "le", "0.25")).isEqualTo(2.0);
        assertThat(text.get(bucket, "database", "app", "user", "alice", "le", "120.0")).isEqualTo(2.0);
        assertThat(text.get(bucket, "database", "app", "user", "alice", "le", "+Inf")).isEqualTo(3.0);
        assertThat(text.get("pgwarden_client_wait_seconds_count", "database", "app", "user", "alice")).isEqualTo(3.0);
        assertThat(text.get("pgwarden_client_wait_seconds_sum", "database", "app", "user", "alice"))
                .isCloseTo(500.203, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(text.get("pgwarden_timeouts_total", "kind", "query_wait")).isEqualTo(2.0);
        assertThat(text.get("pgwarden_timeouts_total", "kind", "login")).isEqualTo(1.0);
        assertThat(text.get("pgwarden_timeouts_total", "kind", "idle_in_transaction")).isEqualTo(0.0);
        assertThat(text.get("pgwarden_replayed_requests_total")).isEqualTo(1.0);
        assertThat(text.get("pgwarden_server_connect_attempts_total", "database", "app", "result", "ok"))
                .isEqualTo(1.0);
        assertThat(text.get("pgwarden_server_connect_attempts_total", "database", "app", "result", "failed"))
                .isEqualTo(2.0);
        assertThat(text.get("pgwarden_health_checks_total", "result", "passed")).isEqualTo(1.0);
        assertThat(text.get("pgwarden_health_checks_total", "result", "failed")).isEqualTo(1.0);
        assertThat(text.get("pgwarden_config_reloads_total", "result", "ok")).isEqualTo(1.0);
        assertThat(text.get("pgwarden_config_reloads_total", "result", "failed")).isEqualTo(0.0);
        assertThat(text.get("pgwarden_clients_killed_total", "reason", "admin_kill")).isEqualTo(1.0);
        assertThat(text.get("pgwarden_client_errors_from_server_loss_total", "during", "request_after_check"))
                .isEqualTo(1.0);
        assertThat(text.get("pgwarden_client_errors_from_server_loss_total", "during", "request_unchecked"))
                .isEqualTo(0.0);
    }

    @Test
    void healthIsUp() throws Exception {
        HttpResponse<String> response = get("/health");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/json"));
        assertThat(response.body()).isEqualTo("{\"status\":\"up\"}");
    }

    @Test
    void readyIs200UntilAPoolIsNotReady() throws Exception {
        HttpResponse<String> ready = get("/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("{\"ready\":true,\"pools\":["
                + "{\"database\":\"app\",\"user\":\"alice\",\"ready\":true,\"detail\":\"ok\"},"
                + "{\"database\":\"reports\",\"user\":\"bob \\\"the\\\" builder\",\"ready\":true,\"detail\":null}]}");

        List<PoolView> changed = new ArrayList<>(pools.get());
        changed.set(0, notReady(APP, "no server connection: connection refused\n(retrying)"));
        pools.set(changed);
        HttpResponse<String> notReady = get("/ready");

        assertThat(notReady.statusCode()).isEqualTo(503);
        assertThat(notReady.body()).startsWith("{\"ready\":false,")
                .contains("{\"database\":\"app\",\"user\":\"alice\",\"ready\":false,"
                        + "\"detail\":\"no server connection: connection refused\\n(retrying)\"}");
    }

    @Test
    void readyWithNoPoolsIs200() throws Exception {
        pools.set(List.of());

        HttpResponse<String> response = get("/ready");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"ready\":true,\"pools\":[]}");
    }

    @Test
    void unknownPathIs404AndWrongMethodIs405() throws Exception {
        assertThat(get("/").statusCode()).isEqualTo(404);
        assertThat(get("/metrics/extra").statusCode()).isEqualTo(404);
        assertThat(get("/nope").statusCode()).isEqualTo(404);
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri("/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
    }

    @Test
    void failingSupplierGives500AndServerKeepsServing() throws Exception {
        pools.set(null);
        assertThat(get("/ready").statusCode()).isEqualTo(200); // null is read as "no pools"
        metrics = new ProxyMetrics(() -> {
            throw new IllegalStateException("pool registry closed");
        }, Map::of);
        try (HttpEndpoints failing = HttpEndpoints.start("127.0.0.1", 0, metrics, pools::get)) {
            URI uri = URI.create("http://127.0.0.1:" + failing.address().getPort() + "/metrics");
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(500);
        }
        assertThat(get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void closeFreesThePort() throws Exception {
        InetSocketAddress address = endpoints.address();
        assertThat(address.getPort()).isPositive();
        assertThat(get("/health").statusCode()).isEqualTo(200);

        endpoints.close();

        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(address.getAddress(), address.getPort()));
        }
        HttpClient fresh = HttpClient.newHttpClient(); // a new client, so no pooled connection is reused
        assertThatThrownBy(() -> fresh.send(HttpRequest.newBuilder(uri("/health")).build(),
                HttpResponse.BodyHandlers.ofString())).isInstanceOf(ConnectException.class);
    }

    private static PoolView notReady(PoolView p, String detail) {
        return new PoolView(p.database(), p.user(), p.poolMode(), p.clientsActive(), p.clientsIdle(),
                p.clientsIdleInTransaction(), p.clientsWaiting(), p.serversActive(), p.serversIdle(),
                p.serversTesting(), p.serversOpening(), p.maxSize(), p.longestWaitMillis(), p.transactions(),
                p.queries(), p.bytesIn(), p.bytesOut(), p.paused(), false, detail);
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + endpoints.address().getPort() + path);
    }
}
