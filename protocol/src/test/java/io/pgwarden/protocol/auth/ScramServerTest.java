package io.pgwarden.protocol.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;

class ScramServerTest {

    // RFC 7677 section 3, with PostgreSQL's framing of the client-first-message.
    private static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    private static final String SERVER_NONCE_PART = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private static final String NONCE = CLIENT_NONCE + SERVER_NONCE_PART;
    private static final String SALT = "W22ZaJ0SNY7soEsUEjb6gQ==";
    private static final String CLIENT_FIRST = "n,,n=user,r=" + CLIENT_NONCE;
    private static final String SERVER_FIRST = "r=" + NONCE + ",s=" + SALT + ",i=4096";
    private static final String CLIENT_FINAL = "c=biws,r=" + NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    private static final ScramSecret PENCIL = ScramSecret.fromPassword("pencil", Base64.getDecoder().decode(SALT), 4096);

    @Test
    void followsTheRfc7677TestVector() throws Exception {
        ScramServer server = vectorServer();
        assertThat(text(server.handleClientFirst(bytes(CLIENT_FIRST)))).isEqualTo(SERVER_FIRST);
        assertThat(text(server.handleClientFinal(bytes(CLIENT_FINAL)))).isEqualTo(SERVER_FINAL);
    }

    @Test
    void ignoresTheUserNameInClientFirstAsPostgresqlDoes() throws Exception {
        ScramServer server = vectorServer();
        server.handleClientFirst(bytes("n,,n=,r=" + CLIENT_NONCE));
        // The AuthMessage includes the bare client-first, so the proof must be for what was actually sent.
        String clientFinal = clientFinal("pencil", "n=,r=" + CLIENT_NONCE, SERVER_FIRST, "biws", NONCE);
        assertThat(text(server.handleClientFinal(bytes(clientFinal)))).startsWith("v=");
    }

    @Test
    void rejectsAWrongProof() throws Exception {
        ScramServer server = vectorServer();
        server.handleClientFirst(bytes(CLIENT_FIRST));
        String wrongProof = CLIENT_FINAL.replace("p=dHzb", "p=dHzc");
        assertThatThrownBy(() -> server.handleClientFinal(bytes(wrongProof)))
                .isInstanceOf(AuthenticationException.class)
                .hasMessageNotContaining("dHz");
    }

    @Test
    void rejectsAProofMadeWithTheWrongPassword() throws Exception {
        ScramServer server = vectorServer();
        server.handleClientFirst(bytes(CLIENT_FIRST));
        String clientFinal = clientFinal("pencil2", "n=user,r=" + CLIENT_NONCE, SERVER_FIRST, "biws", NONCE);
        assertThatThrownBy(() -> server.handleClientFinal(bytes(clientFinal)))
                .isInstanceOf(AuthenticationException.class);
    }

    @Test
    void rejectsATamperedNonce() throws Exception {
        ScramServer server = vectorServer();
        server.handleClientFirst(bytes(CLIENT_FIRST));
        String tampered = CLIENT_FINAL.replace("$k0,", "$k1,");
        assertThatThrownBy(() -> server.handleClientFinal(bytes(tampered)))
                .isInstanceOf(AuthenticationException.class)
                .hasMessageContaining("nonce");
    }

    @Test
    void rejectsChannelBindingSinceItIsNotOffered() {
        ScramServer server = vectorServer();
        assertThatThrownBy(() -> server.handleClientFirst(bytes("p=tls-server-end-point,,n=,r=" + CLIENT_NONCE)))
                .isInstanceOf(AuthenticationException.class)
                .hasMessageContaining("channel binding");
    }

    @Test
    void acceptsAClientThatSupportsChannelBindingButThinksWeDoNot() throws Exception {
        ScramServer server = vectorServer();
        server.handleClientFirst(bytes("y,,n=,r=" + CLIENT_NONCE));
        String cbind = Base64.getEncoder().encodeToString(bytes("y,,"));
        String clientFinal = clientFinal("pencil", "n=,r=" + CLIENT_NONCE, SERVER_FIRST, cbind, NONCE);
        assertThat(text(server.handleClientFinal(bytes(clientFinal)))).startsWith("v=");
    }

    @Test
    void rejectsAChannelBindingEchoThatDoesNotMatchTheHeader() throws Exception {
        ScramServer server = vectorServer();
        server.handleClientFirst(bytes("y,,n=,r=" + CLIENT_NONCE));
        // "biws" is "n,,": a downgrade of the flag between the two messages.
        String clientFinal = clientFinal("pencil", "n=,r=" + CLIENT_NONCE, SERVER_FIRST, "biws", NONCE);
        assertThatThrownBy(() -> server.handleClientFinal(bytes(clientFinal)))
                .isInstanceOf(AuthenticationException.class);
    }

    @Test
    void rejectsMalformedClientFirstMessages() {
        for (String message : new String[] {
            "", "x,,n=,r=abc", "n,a=admin,n=,r=abc", "n,,r=abc", "n,,n=,", "n,,n=,r=", "n,,m=ext,n=,r=abc",
            "n,,n=,r=ab\u00e9", "n,n=,r=abc"}) {
            ScramServer server = vectorServer();
            assertThatThrownBy(() -> server.handleClientFirst(bytes(message))).as(message)
                    .isInstanceOf(AuthenticationException.class);
        }
    }

    @Test
    void rejectsMalformedClientFinalMessages() throws Exception {
        for (String message : new String[] {
            "", "c=biws", "c=biws,r=" + NONCE, "c=biws,r=" + NONCE + ",p=not*base64", "c=biws,r=" + NONCE + ",p=AAAA",
            "r=" + NONCE + ",c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="}) {
            ScramServer server = vectorServer();
            server.handleClientFirst(bytes(CLIENT_FIRST));
            assertThatThrownBy(() -> server.handleClientFinal(bytes(message))).as(message)
                    .isInstanceOf(AuthenticationException.class);
        }
    }

    @Test
    void refusesMessagesOutOfOrderOrAfterAFailure() throws Exception {
        ScramServer server = vectorServer();
        assertThatThrownBy(() -> server.handleClientFinal(bytes(CLIENT_FINAL))).isInstanceOf(IllegalStateException.class);
        server.handleClientFirst(bytes(CLIENT_FIRST));
        assertThatThrownBy(() -> server.handleClientFirst(bytes(CLIENT_FIRST)))
                .isInstanceOf(IllegalStateException.class);

        ScramServer failed = vectorServer();
        failed.handleClientFirst(bytes(CLIENT_FIRST));
        assertThatThrownBy(() -> failed.handleClientFinal(bytes(CLIENT_FINAL.replace("p=dHzb", "p=dHzc"))))
                .isInstanceOf(AuthenticationException.class);
        assertThatThrownBy(() -> failed.handleClientFinal(bytes(CLIENT_FINAL))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void generatesAFreshRandomServerNonce() throws Exception {
        String first = text(new ScramServer(PENCIL).handleClientFirst(bytes(CLIENT_FIRST)));
        String second = text(new ScramServer(PENCIL).handleClientFirst(bytes(CLIENT_FIRST)));
        assertThat(first).matches("r=" + CLIENT_NONCE + "[A-Za-z0-9+/]{24},s=" + SALT.replace("+", "\\+") + ",i=4096");
        assertThat(first).isNotEqualTo(second);
    }

    private static final byte[] END_POINT = new byte[32];

    static {
        java.util.Arrays.fill(END_POINT, (byte) 7);
    }

    private static ScramServer bindingServer() {
        return new ScramServer(PENCIL, () -> SERVER_NONCE_PART, END_POINT);
    }

    private static String bindingEcho(byte[] data) {
        byte[] header = bytes("p=tls-server-end-point,,");
        byte[] echo = java.util.Arrays.copyOf(header, header.length + data.length);
        System.arraycopy(data, 0, echo, header.length, data.length);
        return Base64.getEncoder().encodeToString(echo);
    }

    @Test
    void acceptsTlsServerEndPointBindingWithTheConnectionsData() throws Exception {
        ScramServer server = bindingServer();
        assertThat(server.offersChannelBinding()).isTrue();
        server.handleClientFirst(bytes("p=tls-server-end-point,,n=,r=" + CLIENT_NONCE), true);
        String clientFinal = clientFinal("pencil", "n=,r=" + CLIENT_NONCE, SERVER_FIRST, bindingEcho(END_POINT),
                NONCE);
        assertThat(text(server.handleClientFinal(bytes(clientFinal)))).startsWith("v=");
    }

    @Test
    void refusesABindingToAnotherCertificate() throws Exception {
        ScramServer server = bindingServer();
        server.handleClientFirst(bytes("p=tls-server-end-point,,n=,r=" + CLIENT_NONCE), true);
        // What a client sees behind a man in the middle: the hash of the interceptor's certificate.
        String clientFinal = clientFinal("pencil", "n=,r=" + CLIENT_NONCE, SERVER_FIRST, bindingEcho(new byte[32]),
                NONCE);
        assertThatThrownBy(() -> server.handleClientFinal(bytes(clientFinal)))
                .isInstanceOf(AuthenticationException.class)
                .hasMessage("SCRAM channel binding check failed");
    }

    @Test
    void refusesFlagsThatContradictTheChosenMechanism() {
        assertThatThrownBy(() -> bindingServer().handleClientFirst(bytes("y,,n=,r=" + CLIENT_NONCE), false))
                .hasMessageContaining("negotiation error");
        assertThatThrownBy(() -> bindingServer().handleClientFirst(bytes("n,,n=,r=" + CLIENT_NONCE), true))
                .hasMessageContaining("does not include channel binding data");
        assertThatThrownBy(() -> bindingServer().handleClientFirst(
                bytes("p=tls-server-end-point,,n=,r=" + CLIENT_NONCE), false))
                .hasMessageContaining("includes channel binding data");
        assertThatThrownBy(() -> bindingServer().handleClientFirst(bytes("p=tls-unique,,n=,r=" + CLIENT_NONCE), true))
                .hasMessageContaining("unsupported SCRAM channel-binding type");
        assertThatThrownBy(() -> vectorServer().handleClientFirst(
                bytes("p=tls-server-end-point,,n=,r=" + CLIENT_NONCE), true))
                .hasMessageContaining("not offered");
    }

    private static ScramServer vectorServer() {
        return new ScramServer(PENCIL, () -> SERVER_NONCE_PART);
    }

    /** An independent client-side computation (RFC 5802 section 3) using only the JDK, for non-vector exchanges. */
    static String clientFinal(String password, String clientFirstBare, String serverFirst, String cbind, String nonce)
            throws Exception {
        byte[] salt = Base64.getDecoder().decode(SALT);
        byte[] saltedPassword = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec(password.toCharArray(), salt, 4096, 256)).getEncoded();
        byte[] clientKey = hmac(saltedPassword, "Client Key");
        byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
        String withoutProof = "c=" + cbind + ",r=" + nonce;
        byte[] signature = hmac(storedKey, clientFirstBare + "," + serverFirst + "," + withoutProof);
        byte[] proof = new byte[clientKey.length];
        for (int i = 0; i < proof.length; i++) {
            proof[i] = (byte) (clientKey[i] ^ signature[i]);
        }
        return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
    }

    private static byte[] hmac(byte[] key, String message) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(bytes(message));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(UTF_8);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, UTF_8);
    }
}
