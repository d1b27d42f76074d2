package io.pgwarden.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * SCRAM pass-through in memory: the ClientKey a server recovers from one client's proof logs in to another server
 * holding the same verifier, and to no server holding another.
 */
class ScramPassThroughTest {

    private static final List<String> OFFERED = List.of("SCRAM-SHA-256");

    @Test
    void theClientKeyRecoveredFromAProofLogsInToAServerWithTheSameVerifier() throws Exception {
        ScramSecret verifier = ScramSecret.generate("s3cret");
        byte[] clientKey = recoveredClientKey(verifier, "s3cret");

        ScramServer postgres = new ScramServer(ScramSecret.parse(verifier.toPgSecret()));
        ScramClientLogin login = ScramClientLogin.passThrough(verifier, clientKey, "users.alice.password", OFFERED,
                null);
        byte[] serverFinal = postgres.handleClientFinal(login.handleServerFirst(
                postgres.handleClientFirst(login.clientFirstMessage())));
        assertThatCode(() -> login.verifyServerFinal(serverFinal)).doesNotThrowAnyException();
    }

    @Test
    void aServerWithAnotherSaltOrIterationCountIsRefusedSayingWhy() throws Exception {
        ScramSecret verifier = ScramSecret.generate("s3cret");
        byte[] clientKey = recoveredClientKey(verifier, "s3cret");
        for (ScramSecret theirs : List.of(ScramSecret.generate("s3cret"),
                ScramSecret.fromPassword("s3cret", verifier.salt(), 8192))) {
            ScramServer postgres = new ScramServer(theirs);
            ScramClientLogin login = ScramClientLogin.passThrough(verifier, clientKey, "users.alice.password",
                    OFFERED, null);
            byte[] serverFirst = postgres.handleClientFirst(login.clientFirstMessage());
            assertThatThrownBy(() -> login.handleServerFirst(serverFirst))
                    .isInstanceOf(AuthenticationException.class)
                    .hasMessageStartingWith("SCRAM pass-through needs PostgreSQL's own verifier: the server's")
                    .hasMessageEndingWith("differs from users.alice.password");
        }
    }

    @Test
    void keysAreHandedOutOnlyForTheVerifierTheyMatch() throws Exception {
        ScramSecret verifier = ScramSecret.generate("s3cret");
        PassThroughKeys keys = new PassThroughKeys();
        assertThat(keys.clientKey("alice", verifier)).isEmpty();
        keys.remember("alice", recoveredClientKey(verifier, "s3cret"));
        assertThat(keys.clientKey("alice", verifier)).isPresent();
        assertThat(keys.clientKey("alice", ScramSecret.generate("s3cret"))).isEmpty();
        assertThat(keys.clientKey("bob", verifier)).isEmpty();
    }

    @Test
    void aCleartextPasswordYieldsTheSameClientKeyAsAProof() throws Exception {
        ScramSecret verifier = ScramSecret.generate("s3cret");
        byte[] fromProof = recoveredClientKey(verifier, "s3cret");
        assertThat(verifier.clientKeyOf("s3cret")).hasValueSatisfying(key -> assertThat(key).isEqualTo(fromProof));
        assertThat(verifier.clientKeyOf("guess")).isEmpty();
        assertThat(verifier.clientKeyOf("")).isEmpty();
    }

    /** What pgwarden's server side keeps when a client proves {@code password}. */
    private static byte[] recoveredClientKey(ScramSecret verifier, String password) throws AuthenticationException {
        ScramServer pgwarden = new ScramServer(verifier);
        ScramClientLogin client = new ScramClientLogin("alice", password, OFFERED);
        byte[] serverFinal = pgwarden.handleClientFinal(client.handleServerFirst(
                pgwarden.handleClientFirst(client.clientFirstMessage())));
        client.verifyServerFinal(serverFinal);
        return pgwarden.clientKey();
    }
}
