package io.pgwarden.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** admin.http.metrics_token: /metrics wants the bearer token; the probes stay open, as kubelet sends none. */
class HttpMetricsTokenTest {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private HttpEndpoints endpoints;

    @BeforeEach
    void start() throws Exception {
        endpoints = HttpEndpoints.start("127.0.0.1", 0, new ProxyMetrics(List::of, Map::of), List::of,
                "s3cr3t-token", HttpLimits.defaults());
    }

    @AfterEach
    void stop() {
        endpoints.close();
    }

    @Test
    void metricsNeedTheToken() throws Exception {
        HttpResponse<String> none = get("/metrics", null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(none.body()).doesNotContain("pgwarden_");
        assertThat(get("/metrics", "Bearer wrong").statusCode()).isEqualTo(401);
        assertThat(get("/metrics", "Bearer s3cr3t-token-and-more").statusCode()).isEqualTo(401);
        assertThat(get("/metrics", "Basic czNjcjN0LXRva2Vu").statusCode()).isEqualTo(401);

        HttpResponse<String> right = get("/metrics", "Bearer s3cr3t-token");
        assertThat(right.statusCode()).isEqualTo(200);
        assertThat(right.body()).contains("pgwarden_replayed_requests_total");
    }

    @Test
    void probesStayOpen() throws Exception {
        assertThat(get("/health", null).statusCode()).isEqualTo(200);
        assertThat(get("/ready", null).statusCode()).isEqualTo(200);
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + endpoints.address().getPort() + path)).timeout(Duration.ofSeconds(5));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
