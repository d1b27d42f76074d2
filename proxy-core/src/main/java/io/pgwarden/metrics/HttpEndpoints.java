package io.pgwarden.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP endpoints for monitoring: GET /metrics (Prometheus text format), GET /health (liveness, always 200
 * while the process serves HTTP) and GET /ready (readiness, 503 while any pool is not ready). Any other
 * path is 404; another method on a known path is 405.
 *
 * <p>Uses the JDK's HttpServer instead of Netty so monitoring keeps working even when the proxy's event
 * loops are saturated or stuck — exactly when someone wants to look at it.
 */
public final class HttpEndpoints implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HttpEndpoints.class);
    private static final String JSON = "application/json; charset=utf-8";
    // Scrapes and probes are few and short; two threads keep a slow scrape from blocking a probe.
    private static final int THREADS = 2;

    private final HttpServer server;
    private final ExecutorService executor;
    private final ProxyMetrics metrics;
    private final Supplier<List<PoolView>> pools;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    private HttpEndpoints(HttpServer server, ExecutorService executor, ProxyMetrics metrics,
                          Supplier<List<PoolView>> pools) {
        this.server = server;
        this.executor = executor;
        this.metrics = metrics;
        this.pools = pools;
    }

    /**
     * Starts serving GET /metrics (Prometheus text), GET /health (200, JSON {"status":"up"}), GET /ready (200
     * if every pool view has ready=true or there are no pools, else 503; JSON body
     * {"ready":bool,"pools":[{"database":..,"user":..,"ready":..,"detail":..},...]}); anything else 404.
     *
     * @param port 0 binds any free port; see {@link #address()}
     */
    public static HttpEndpoints start(String host, int port, ProxyMetrics metrics, Supplier<List<PoolView>> pools)
            throws IOException {
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(pools, "pools");
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
        ExecutorService executor = Executors.newFixedThreadPool(THREADS, daemonThreads());
        HttpEndpoints endpoints = new HttpEndpoints(server, executor, metrics, pools);
        server.createContext("/", endpoints::handle);
        server.setExecutor(executor);
        server.start();
        return endpoints;
    }

    // Daemon threads: an endpoint someone forgot to close must not keep the JVM alive after main() returns.
    private static java.util.concurrent.ThreadFactory daemonThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "pgwarden-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** The actual bound address; with port 0 this tells which port was picked. */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** Stops at once (no grace period for in-flight requests) and shuts the worker threads down. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        // Not try-with-resources: that would close the exchange before the catch could still send a 500.
        try {
            String path = exchange.getRequestURI().getPath();
            if (!path.equals("/metrics") && !path.equals("/health") && !path.equals("/ready")) {
                send(exchange, 404, "text/plain; charset=utf-8", "not found\n");
                return;
            }
            if (!exchange.getRequestMethod().equals("GET")) {
                exchange.getResponseHeaders().set("Allow", "GET");
                send(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n");
                return;
            }
            switch (path) {
                case "/metrics" -> metrics(exchange);
                case "/health" -> send(exchange, 200, JSON, Json.HEALTH_UP);
                default -> ready(exchange);
            }
        } catch (RuntimeException | Error e) {
            // A failing supplier must not leave the client hanging; usually nothing was sent yet, so 500 fits.
            log.warn("HTTP endpoint {} failed", exchange.getRequestURI(), e);
            try {
                send(exchange, 500, "text/plain; charset=utf-8", "internal error\n");
            } catch (IOException | RuntimeException sendFailed) {
                // headers were already sent or the peer left; closing the exchange is all that is left
                log.debug("Could not send 500 for {}", exchange.getRequestURI(), sendFailed);
            }
        } finally {
            exchange.close();
        }
    }

    private void metrics(HttpExchange exchange) throws IOException {
        // Render fully before sending headers, so a failing callback yields a 500 rather than a cut-off 200.
        ByteArrayOutputStream body = new ByteArrayOutputStream(8192);
        writer.write(body, metrics.registry().scrape());
        send(exchange, 200, PrometheusTextFormatWriter.CONTENT_TYPE, body.toByteArray());
    }

    private void ready(HttpExchange exchange) throws IOException {
        List<PoolView> views = pools.get();
        if (views == null) {
            views = List.of();
        }
        send(exchange, Json.allReady(views) ? 200 : 503, JSON, Json.readiness(views));
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        send(exchange, status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
