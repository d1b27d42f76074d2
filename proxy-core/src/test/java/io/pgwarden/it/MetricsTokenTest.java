package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Issue 14, bug 4: admin.http.metrics_token guards /metrics of a running proxy, which binds loopback by default. */
class MetricsTokenTest {

    private static final String YAML = """
            listen:
              host: 127.0.0.1
              port: 0
            databases:
              appdb:
                host: 127.0.0.1
                port: ${PG_PORT}
            users:
              app:
                password: ${APP_PASSWORD}
            admin:
              http:
                port: 0
                metrics_token: ${APP_PASSWORD}
            """;

    @Test
    void metricsWantTheConfiguredTokenAndTheEndpointBindsLoopback() throws Exception {
        int httpPort;
        try (TestProxy proxy = TestProxy.fromYaml(() -> YAML, TestPostgres.shared().port())) {
            httpPort = proxy.application().httpAddress().getPort();
            assertThat(proxy.application().httpAddress().getAddress().isLoopbackAddress()).isTrue();

            assertThat(get(proxy, "/metrics", null).statusCode()).isEqualTo(401);
            assertThat(get(proxy, "/metrics", "Bearer not-it").statusCode()).isEqualTo(401);
            HttpResponse<String> scrape = get(proxy, "/metrics", "Bearer " + TestPostgres.APP_PASSWORD);
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.body()).contains("pgwarden_config_reloads_total");
            assertThat(get(proxy, "/health", null).statusCode()).isEqualTo(200);
        }
        // Closing the proxy stops the HTTP server and frees its port.
        try (java.net.ServerSocket again = new java.net.ServerSocket()) {
            again.bind(new java.net.InetSocketAddress("127.0.0.1", httpPort));
        }
    }

    private static HttpResponse<String> get(TestProxy proxy, String path, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + proxy.application().httpAddress().getPort() + path)).timeout(Duration.ofSeconds(10));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
