package io.pgwarden.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A scrape asks for the pool views once, whatever the number of families built from them. */
class PoolCollectorsTest {

    private static final PoolView POOL = new PoolView("appdb", "app", "transaction", 3, 5, 1, 2, 4, 6, 1, 2, 20,
            1500, 1000, 2500, 123456, 654321, false, true, "ok");

    @Test
    void oneScrapeReadsThePoolsOnceForEveryFamily() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        ProxyMetrics metrics = new ProxyMetrics(() -> {
            reads.incrementAndGet();
            return List.of(POOL);
        }, Map::of);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
        String text = out.toString(StandardCharsets.UTF_8);

        assertThat(reads).hasValue(1);
        assertThat(text).contains("pgwarden_clients{database=\"appdb\",state=\"idle_in_transaction\",user=\"app\"} 1.0")
                .contains("pgwarden_servers{database=\"appdb\",state=\"opening\",user=\"app\"} 2.0")
                .contains("pgwarden_transactions_total{database=\"appdb\",user=\"app\"} 1000.0")
                .contains("pgwarden_client_longest_wait_seconds{database=\"appdb\",user=\"app\"} 1.5")
                .contains("pgwarden_pool_max_size{database=\"appdb\",user=\"app\"} 20.0");
    }
}
