package io.pgwarden;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Which command lines skip picocli: only the plain serving one, the rest keep picocli's handling. */
class MainArgumentsTest {

    @Test
    void thePlainServingCommandLineSkipsPicocli() {
        assertThat(Main.serveArgument(new String[] {"-c", "/etc/pgwarden.yaml"}))
                .isEqualTo(Path.of("/etc/pgwarden.yaml"));
        assertThat(Main.serveArgument(new String[] {"--config", "pgwarden.yaml"})).isEqualTo(Path.of("pgwarden.yaml"));
    }

    @Test
    void everythingElseGoesThroughPicocli() {
        assertThat(Main.serveArgument(new String[] {})).isNull();
        assertThat(Main.serveArgument(new String[] {"--help"})).isNull();
        assertThat(Main.serveArgument(new String[] {"-c", "x.yaml", "--check"})).isNull();
        assertThat(Main.serveArgument(new String[] {"-c", "--check"})).isNull();
        assertThat(Main.serveArgument(new String[] {"--config=x.yaml"})).isNull();
        assertThat(Main.serveArgument(new String[] {"scram-verifier", "x"})).isNull();
        assertThat(Main.serveArgument(new String[] {"-c", ""})).isNull();
    }
}
