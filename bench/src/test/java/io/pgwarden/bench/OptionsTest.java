package io.pgwarden.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OptionsTest {

    @Test
    void tlsRunsTheTlsMatrixWithLongerRuns() {
        Options o = Options.parse(new String[] {"--tls"});

        assertThat(o.tls).isTrue();
        assertThat(o.duration).isEqualTo(15);
        assertThat(o.rounds).isEqualTo(2);
    }

    @Test
    void explicitOptionsWinOverTlsAndQuickDefaults() {
        assertThat(Options.parse(new String[] {"--duration", "20", "--tls"}).duration).isEqualTo(20);
        assertThat(Options.parse(new String[] {"--tls", "--quick"}).duration).isEqualTo(3);
        assertThat(Options.parse(new String[] {}).tls).isFalse();
    }

    @Test
    void transportsAreCheckedAgainstPgwardensListenTransports() {
        assertThat(Options.parse(new String[] {"--transports", "io_uring, epoll,nio"}).transports)
                .containsExactly("io_uring", "epoll", "nio");
        assertThat(Options.parse(new String[] {}).transports).isEmpty();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Options.parse(new String[] {"--transports", "kqueue"}))
                .hasMessageContaining("kqueue is not one of [auto, io_uring, epoll, nio]");
    }
}
