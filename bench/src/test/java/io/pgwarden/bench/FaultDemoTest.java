package io.pgwarden.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code pgwarden-demo.jar --faults}, shortened: the newcomer must see pgwarden absorb what breaks direct clients. */
class FaultDemoTest {

    @Test
    @Timeout(120)
    void throughPgwardenTheWorkloadSeesFewerErrorsThanDirectlyAndBothCountsArePrinted() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        FaultDemo.Result result = FaultDemo.run(Duration.ofSeconds(15), out);

        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertThat(result.restarts()).isEqualTo(2);
        assertThat(result.kills()).isPositive();
        // Every restart breaks each direct connection at least once; pgwarden hides the restarts entirely.
        assertThat(result.direct().errors()).isGreaterThanOrEqualTo(2L * FaultDemo.WORKERS);
        assertThat(result.proxied().errors()).isLessThan(result.direct().errors());
        assertThat(result.proxied().commits()).isPositive();
        assertThat(printed)
                .contains("direct: " + result.direct().errors() + " errors")
                .contains("through pgwarden: " + result.proxied().errors() + " errors")
                .contains("pgwarden_replayed_requests_total");
    }
}
