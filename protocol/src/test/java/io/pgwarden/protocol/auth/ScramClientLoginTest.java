package io.pgwarden.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScramClientLoginTest {

    private static final List<String> OFFERED = List.of("SCRAM-SHA-256");

    @Test
    void logsInToScramServerWithTheRightPassword() throws Exception {
        ScramServer server = new ScramServer(ScramSecret.generate("s3cret"));
        ScramClientLogin client = new ScramClientLogin("alice", "s3cret", OFFERED);
        assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256");

        byte[] clientFirst = client.clientFirstMessage();
        assertThat(new String(clientFirst, StandardCharsets.UTF_8)).startsWith("n,,");
        byte[] clientFinal = client.handleServerFirst(server.handleClientFirst(clientFirst));
        byte[] serverFinal = server.handleClientFinal(clientFinal);
        assertThatCode(() -> client.verifyServerFinal(serverFinal)).doesNotThrowAnyException();
    }

    @Test
    void logsInWithANonAsciiPasswordThatNeedsSaslprep() throws Exception {
        ScramServer server = new ScramServer(ScramSecret.generate("p\u00e4ss\u00a0w\u00f6rd"));
        ScramClientLogin client = new ScramClientLogin("alice", "p\u00e4ss\u00a0w\u00f6rd", OFFERED);
        byte[] serverFinal = server.handleClientFinal(client.handleServerFirst(
                server.handleClientFirst(client.clientFirstMessage())));
        assertThatCode(() -> client.verifyServerFinal(serverFinal)).doesNotThrowAnyException();
    }

    @Test
    void wrongPasswordFailsOnTheServerSide() throws Exception {
        ScramServer server = new ScramServer(ScramSecret.generate("s3cret"));
        ScramClientLogin client = new ScramClientLogin("alice", "guess", OFFERED);
        byte[] clientFinal = client.handleServerFirst(server.handleClientFirst(client.clientFirstMessage()));
        assertThatThrownBy(() -> server.handleClientFinal(clientFinal))
                .isInstanceOf(AuthenticationException.class)
                .hasMessageNotContaining("guess");
    }

    @Test
    void rejectsAServerThatDoesNotKnowTheSecret() throws Exception {
        ScramServer impostor = new ScramServer(ScramSecret.generate("something else"));
        ScramClientLogin client = new ScramClientLogin("alice", "s3cret", OFFERED);
        client.handleServerFirst(impostor.handleClientFirst(client.clientFirstMessage()));
        byte[] forged = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> client.verifyServerFinal(forged)).isInstanceOf(AuthenticationException.class);
    }

    @Test
    void rejectsAServerFirstWithAForeignNonce() throws Exception {
        ScramClientLogin client = new ScramClientLogin("alice", "s3cret", OFFERED);
        client.clientFirstMessage();
        byte[] serverFirst = "r=notournonce,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> client.handleServerFirst(serverFirst)).isInstanceOf(AuthenticationException.class);
    }

    @Test
    void choosesPlainScramEvenWhenPlusIsOffered() throws Exception {
        ScramClientLogin client = new ScramClientLogin("alice", "s3cret", List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"));
        assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(new String(client.clientFirstMessage(), StandardCharsets.UTF_8)).startsWith("n,,");
    }

    @Test
    void failsWhenNoSupportedMechanismIsOffered() {
        assertThatThrownBy(() -> new ScramClientLogin("alice", "s3cret", List.of("SCRAM-SHA-256-PLUS")))
                .isInstanceOf(AuthenticationException.class);
        assertThatThrownBy(() -> new ScramClientLogin("alice", "s3cret", List.of()))
                .isInstanceOf(AuthenticationException.class);
    }
}
