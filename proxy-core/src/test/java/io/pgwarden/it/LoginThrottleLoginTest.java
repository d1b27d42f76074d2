package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * listen.login_throttle against PostgreSQL 17: an address guessing passwords gets slower and slower answers, while
 * a client at another address logs in as fast as ever. The guesser is 127.0.0.2 and the user 127.0.0.3, raw
 * sockets bound to those loopback addresses (pgjdbc cannot choose its source address).
 */
class LoginThrottleLoginTest {

    private static final int GUESSES = 200;
    private static final int GUESSERS = 10;
    private static final int FAILURES = 10;
    private static final long MAX_DELAY_MS = 500;

    private static Socket from(String source, int port) throws IOException {
        Socket socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.bind(new InetSocketAddress(source, 0));
        socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        socket.setSoTimeout(30_000);
        return socket;
    }

    /** One wrong cleartext password from 127.0.0.2; returns how long the login took to be refused, in ns. */
    private static long guess(int port) throws IOException {
        long start = System.nanoTime();
        try (Socket socket = from("127.0.0.2", port)) {
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            StartupPacket.send(out, 3 << 16, "user", "trustuser", "database", "appdb");
            char request = (char) in.readByte();
            in.readNBytes(in.readInt() - 4);
            byte[] password = "wrong\0".getBytes(StandardCharsets.UTF_8);
            out.writeByte('p');
            out.writeInt(4 + password.length);
            out.write(password);
            out.flush();
            char type = (char) in.readByte();
            String body = new String(in.readNBytes(in.readInt() - 4), StandardCharsets.UTF_8);
            long took = System.nanoTime() - start;
            if (request != 'R' || type != 'E' || !body.contains("28P01")) {
                throw new IOException("expected a password request and 28P01, got " + request + ", " + type + body);
            }
            return took;
        }
    }

    /** One right login from 127.0.0.3, to ReadyForQuery; returns how long it took, in ns. */
    private static long login(int port) throws IOException {
        long start = System.nanoTime();
        try (RawClient client = new RawClient(from("127.0.0.3", port), 30_000, "trust-secret", "user", "trustuser",
                "database", "appdb")) {
            long took = System.nanoTime() - start;
            client.terminate();
            return took;
        }
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    @Test
    void twoHundredWrongPasswordsGetSlowerAnswersWhileAnotherAddressLogsInAtItsUsualSpeed() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction",
                "login_throttle: {failures: " + FAILURES + ", window: 1m, max_delay: " + MAX_DELAY_MS + "ms}");
             LogCapture log = new LogCapture()) {
            int port = proxy.port();
            login(port);
            List<Long> baseline = new ArrayList<>();
            for (int i = 0; i < 15; i++) {
                baseline.add(login(port));
            }

            // Each guess keeps its place in the order the guesses began, so "the first ones" are the first tried;
            // those up to the limit go one at a time, as the baseline does, the rest from several threads at once.
            long[] took = new long[GUESSES];
            long floodStart = System.nanoTime();
            for (int i = 0; i < FAILURES; i++) {
                took[i] = guess(port);
            }
            AtomicInteger next = new AtomicInteger(FAILURES);
            ExecutorService guessers = Executors.newFixedThreadPool(GUESSERS);
            List<Future<?>> running = new ArrayList<>();
            for (int g = 0; g < GUESSERS; g++) {
                running.add(guessers.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < GUESSES; ) {
                        took[i] = guess(port);
                    }
                    return null;
                }));
            }
            // Once the guesser is being slowed, the other address's logins are measured against the baseline.
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> !log.lines("event=login_throttled").isEmpty());
            List<Long> during = new ArrayList<>();
            while (next.get() < GUESSES - GUESSERS && during.size() < 15) {
                during.add(login(port));
            }
            for (Future<?> guessing : running) {
                guessing.get(60, TimeUnit.SECONDS);
            }
            guessers.shutdown();
            long floodMillis = (System.nanoTime() - floodStart) / 1_000_000;

            List<Long> first = new ArrayList<>();
            List<Long> last = new ArrayList<>();
            for (int i = 0; i < GUESSES; i++) {
                (i < FAILURES ? first : i >= GUESSES - 50 ? last : new ArrayList<Long>()).add(took[i]);
            }
            System.out.printf("login throttle: %d guesses in %d ms; guess median first %d (one at a time): %.1f ms, last 50: %.1f ms;"
                            + " other address login median baseline %.1f ms, during %.1f ms (%d logins)%n", GUESSES,
                    floodMillis, FAILURES, median(first) / 1e6, median(last) / 1e6, median(baseline) / 1e6,
                    median(during) / 1e6, during.size());
            assertThat(median(last)).as("the last guesses wait out the capped delay")
                    .isGreaterThan(10 * median(first));
            assertThat(last).allMatch(ns -> ns >= MAX_DELAY_MS * 1_000_000);
            assertThat(during).hasSizeGreaterThanOrEqualTo(5);
            assertThat(median(during)).as("another address is not slowed").isLessThan(3 * median(baseline));
            assertThat(log.lines("event=login_throttled")).singleElement().asString()
                    .startsWith("event=login_throttled addr=127.0.0.2 failures=10");
            assertThat(counter(proxy, "pgwarden_login_failures")).isEqualTo(GUESSES);
            assertThat(counter(proxy, "pgwarden_login_throttled")).isGreaterThanOrEqualTo(GUESSES - 2 * GUESSERS);
        }
    }

    private static double counter(TestProxy proxy, String name) {
        return proxy.application().context().metrics().registry().scrape().stream()
                .filter(m -> m.getMetadata().getPrometheusName().equals(name)).findFirst().orElseThrow()
                .getDataPoints().stream().mapToDouble(p -> ((CounterSnapshot.CounterDataPointSnapshot) p).getValue())
                .sum();
    }
}
