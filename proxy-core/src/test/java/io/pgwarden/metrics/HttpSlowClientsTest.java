package io.pgwarden.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 14, bug 4: connections that send part of a request and then nothing held the JDK HttpServer's two
 * threads, and /health answered 0 of 15 probes. Kubernetes would have killed a healthy proxy.
 */
class HttpSlowClientsTest {

    private static final String HALF_REQUEST = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slo";

    private final List<Socket> slow = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private HttpEndpoints endpoints;

    @AfterEach
    void stop() throws IOException {
        for (Socket s : slow) {
            s.close();
        }
        if (endpoints != null) {
            endpoints.close();
        }
    }

    @Test
    void probesAreAnsweredWhileTwentyConnectionsHoldHalfARequest() throws Exception {
        endpoints = HttpEndpoints.start("127.0.0.1", 0, metrics(), List::of);
        openSlowConnections(20);

        for (int i = 0; i < 15; i++) {
            // A fresh client each time: a probe from kubelet opens a new connection too.
            HttpResponse<String> probe = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
                    .send(request("/health"), HttpResponse.BodyHandlers.ofString());
            assertThat(probe.statusCode()).isEqualTo(200);
        }
        assertThat(get("/ready").statusCode()).isEqualTo(200);
        assertThat(get("/metrics").statusCode()).isEqualTo(200);
    }

    @Test
    void aConnectionThatDoesNotFinishItsRequestIsClosedAfterTheRequestTimeout() throws Exception {
        endpoints = HttpEndpoints.start("127.0.0.1", 0, metrics(), List::of, null,
                new HttpLimits(Duration.ofMillis(500), Duration.ofSeconds(60), 64, 8192));
        openSlowConnections(20);
        try (Socket silent = new Socket("127.0.0.1", endpoints.address().getPort())) {
            slow.add(silent); // says nothing at all
            long started = System.nanoTime();

            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> slow.stream().allMatch(HttpSlowClientsTest::closedByPeer));

            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
            assertThat(get("/health").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aDribblingClientDoesNotResetTheRequestClock() throws Exception {
        endpoints = HttpEndpoints.start("127.0.0.1", 0, metrics(), List::of, null,
                new HttpLimits(Duration.ofMillis(800), Duration.ofSeconds(60), 64, 8192));
        try (Socket dribbler = new Socket("127.0.0.1", endpoints.address().getPort())) {
            long started = System.nanoTime();
            dribbler.getOutputStream().write("GET /health HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
            // One more header byte after another, as long as the connection lasts; bounded by the await below.
            Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
                try {
                    dribbler.getOutputStream().write('X');
                } catch (IOException closed) {
                    return true;
                }
                return closedByPeer(dribbler);
            });
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void overTheConnectionCapAProbeDisplacesAWaitingConnection() throws Exception {
        endpoints = HttpEndpoints.start("127.0.0.1", 0, metrics(), List::of, null,
                new HttpLimits(Duration.ofSeconds(30), Duration.ofSeconds(60), 5, 8192));
        openSlowConnections(20);

        for (int i = 0; i < 5; i++) {
            assertThat(get("/health").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aKeepAliveConnectionServesSeveralRequestsThenIdlesOut() throws Exception {
        endpoints = HttpEndpoints.start("127.0.0.1", 0, metrics(), List::of, null,
                new HttpLimits(Duration.ofSeconds(5), Duration.ofMillis(500), 64, 8192));
        try (Socket s = new Socket("127.0.0.1", endpoints.address().getPort())) {
            s.setSoTimeout(5000);
            String twoRequests = "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
            s.getOutputStream().write(twoRequests.getBytes(StandardCharsets.US_ASCII));
            String answers = readUntilClosed(s);
            assertThat(answers).startsWith("HTTP/1.1 200 OK").contains("HTTP/1.1 404 Not Found")
                    .contains("{\"status\":\"up\"}");
        }
    }

    @Test
    void oversizedHeadersAreRefused() throws Exception {
        endpoints = HttpEndpoints.start("127.0.0.1", 0, metrics(), List::of);
        try (Socket s = new Socket("127.0.0.1", endpoints.address().getPort())) {
            s.setSoTimeout(5000);
            String big = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n";
            s.getOutputStream().write(big.getBytes(StandardCharsets.US_ASCII));
            assertThat(readUntilClosed(s)).startsWith("HTTP/1.1 431");
        }
        assertThat(get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void anOversizedBodyIsRefused() throws Exception {
        endpoints = HttpEndpoints.start("127.0.0.1", 0, metrics(), List::of);
        try (Socket s = new Socket("127.0.0.1", endpoints.address().getPort())) {
            s.setSoTimeout(5000);
            String big = "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 100000\r\n\r\n";
            s.getOutputStream().write(big.getBytes(StandardCharsets.US_ASCII));
            assertThat(readUntilClosed(s)).startsWith("HTTP/1.1 413");
        }
    }

    @Test
    void aTakenPortIsAnIOException() throws Exception {
        endpoints = HttpEndpoints.start("127.0.0.1", 0, metrics(), List::of);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HttpEndpoints.start("127.0.0.1",
                        endpoints.address().getPort(), metrics(), List::of))
                .isInstanceOf(IOException.class).hasMessageContaining("cannot serve HTTP on 127.0.0.1:");
    }

    private void openSlowConnections(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            Socket s = new Socket("127.0.0.1", endpoints.address().getPort());
            slow.add(s);
            s.getOutputStream().write(HALF_REQUEST.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
        }
    }

    private static boolean closedByPeer(Socket s) {
        try {
            s.setSoTimeout(50);
            InputStream in = s.getInputStream();
            int b;
            do {
                b = in.read();
            } while (b >= 0);
            return true;
        } catch (SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private static String readUntilClosed(Socket s) throws IOException {
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }

    private static ProxyMetrics metrics() {
        return new ProxyMetrics(List::of, Map::of);
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(request(path), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoints.address().getPort() + path))
                .timeout(Duration.ofSeconds(2)).build();
    }
}
