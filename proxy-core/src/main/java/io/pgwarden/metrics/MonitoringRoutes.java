package io.pgwarden.metrics;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What each monitoring path answers: GET /metrics (Prometheus text, behind a bearer token when one is configured),
 * GET /health and GET /ready; any other path is 404, another method on a known path 405. Knows nothing of HTTP
 * transport, so the answers stay what they were when the JDK's HttpServer carried them.
 */
final class MonitoringRoutes {

    static final String JSON = "application/json; charset=utf-8";
    static final String TEXT = "text/plain; charset=utf-8";

    /** One answer; {@code headers} are extra headers beyond Content-Type, Cache-Control and Content-Length. */
    record Answer(int status, String contentType, byte[] body, Map<String, String> headers) {
        static Answer of(int status, String contentType, String body) {
            return new Answer(status, contentType, body.getBytes(StandardCharsets.UTF_8), Map.of());
        }
    }

    private final ProxyMetrics metrics;
    private final Supplier<List<PoolView>> pools;
    private final BooleanSupplier stopping;
    private final byte[] expectedAuthorization;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    MonitoringRoutes(ProxyMetrics metrics, Supplier<List<PoolView>> pools, String metricsToken) {
        this(metrics, pools, metricsToken, () -> false);
    }

    /** @param stopping true once a graceful stop began: /ready is 503 from then on, whatever the pools say */
    MonitoringRoutes(ProxyMetrics metrics, Supplier<List<PoolView>> pools, String metricsToken,
                     BooleanSupplier stopping) {
        this.metrics = metrics;
        this.pools = pools;
        this.stopping = stopping;
        this.expectedAuthorization = metricsToken == null ? null
                : ("Bearer " + metricsToken).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * @param target the request target as sent (origin or absolute form; the query is ignored)
     * @param authorization the Authorization header, or null
     */
    Answer answer(String method, String target, String authorization) {
        String path = pathOf(target);
        if (path == null) {
            return Answer.of(400, TEXT, "bad request\n");
        }
        if (!path.equals("/metrics") && !path.equals("/health") && !path.equals("/ready")) {
            return Answer.of(404, TEXT, "not found\n");
        }
        if (!method.equals("GET")) {
            return new Answer(405, TEXT, "method not allowed\n".getBytes(StandardCharsets.UTF_8), Map.of("Allow", "GET"));
        }
        return switch (path) {
            case "/metrics" -> authorized(authorization) ? metrics()
                    : new Answer(401, TEXT, "unauthorized\n".getBytes(StandardCharsets.UTF_8),
                            Map.of("WWW-Authenticate", "Bearer realm=\"pgwarden metrics\""));
            case "/health" -> Answer.of(200, JSON, Json.HEALTH_UP);
            default -> ready();
        };
    }

    private static String pathOf(String target) {
        try {
            String path = URI.create(target).getPath();
            return path == null ? "" : path;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    // Constant-time, so the answer's timing tells nothing about how much of a guessed token was right.
    private boolean authorized(String authorization) {
        return expectedAuthorization == null || authorization != null
                && MessageDigest.isEqual(expectedAuthorization, authorization.getBytes(StandardCharsets.UTF_8));
    }

    private Answer metrics() {
        // Rendered fully before anything is sent, so a failing callback yields a 500 rather than a cut-off 200.
        ByteArrayOutputStream body = new ByteArrayOutputStream(8192);
        try {
            writer.write(body, metrics.registry().scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Answer(200, PrometheusTextFormatWriter.CONTENT_TYPE, body.toByteArray(), Map.of());
    }

    private Answer ready() {
        if (stopping.getAsBoolean()) {
            // A load balancer must stop sending before the listener closes; the pools are no longer the question.
            return Answer.of(503, JSON, Json.STOPPING);
        }
        List<PoolView> views = pools.get();
        if (views == null) {
            views = List.of();
        }
        return Answer.of(Json.allReady(views) ? 200 : 503, JSON, Json.readiness(views));
    }
}
