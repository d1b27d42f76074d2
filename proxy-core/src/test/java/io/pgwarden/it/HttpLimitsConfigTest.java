package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The admin.http limits in the file are the ones the running endpoint enforces. */
class HttpLimitsConfigTest {

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
                request_timeout: 300ms
                max_request_bytes: 512
            """;

    @Test
    void aClientSlowerThanTheConfiguredRequestTimeoutIsClosedAndOversizedHeadersAreRefused() throws Exception {
        try (TestProxy proxy = TestProxy.fromYaml(() -> YAML, TestPostgres.shared().port());
             Socket slow = new Socket("127.0.0.1", proxy.application().httpAddress().getPort())) {
            // The default timeout is 10 s: a read timing out after 5 s means the configured one was ignored.
            slow.setSoTimeout(5_000);
            slow.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            long started = System.nanoTime();
            InputStream in = slow.getInputStream();
            while (in.read() != -1) {
                // whatever the endpoint says before closing
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));

            try (Socket big = new Socket("127.0.0.1", proxy.application().httpAddress().getPort())) {
                big.setSoTimeout(5_000);
                big.getOutputStream().write(("GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + "a".repeat(1000)
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                String answer = new String(big.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertThat(answer).as("1 KiB of headers against max_request_bytes: 512").startsWith("HTTP/1.1 431");
            }
        }
    }
}
