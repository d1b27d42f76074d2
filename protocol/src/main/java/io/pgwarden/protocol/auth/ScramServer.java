package io.pgwarden.protocol.auth;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Server side of SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802/7677) as PostgreSQL does it: the user name in the
 * client-first-message is ignored (the startup packet's one counts). Channel binding ({@code tls-server-end-point}
 * only) is possible when the connection is TLS and the binding data is given; the gs2 flags are then checked as
 * PostgreSQL checks them, so a client cannot be talked out of binding. One instance per login attempt.
 */
public final class ScramServer {

    private static final int NONCE_BYTES = 18;

    private enum Stage { EXPECT_CLIENT_FIRST, EXPECT_CLIENT_FINAL, DONE }

    private final ScramSecret secret;
    private final Supplier<String> serverNoncePart;
    /** tls-server-end-point data of this connection; null when it is not TLS (or the certificate allows none). */
    private final byte[] channelBinding;
    /** What the client must echo in c=: its gs2 header, plus the binding data when it binds. */
    private byte[] expectedEcho;
    private Stage stage = Stage.EXPECT_CLIENT_FIRST;
    private String gs2Header;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;
    /** Recovered from a proof that matched; what SCRAM pass-through logs in to PostgreSQL with. */
    private byte[] clientKey;

    public ScramServer(ScramSecret secret) {
        this(secret, randomNonce());
    }

    /** @param serverNoncePart appended to the client's nonce; fixed values are for test vectors only */
    public ScramServer(ScramSecret secret, Supplier<String> serverNoncePart) {
        this(secret, serverNoncePart, null);
    }

    /** @param channelBinding the connection's tls-server-end-point data, or null when binding is not offered */
    public ScramServer(ScramSecret secret, byte[] channelBinding) {
        this(secret, randomNonce(), channelBinding);
    }

    public ScramServer(ScramSecret secret, Supplier<String> serverNoncePart, byte[] channelBinding) {
        this.secret = Objects.requireNonNull(secret, "secret");
        this.serverNoncePart = Objects.requireNonNull(serverNoncePart, "serverNoncePart");
        this.channelBinding = channelBinding == null ? null : channelBinding.clone();
    }

    /** Whether SCRAM-SHA-256-PLUS may be offered. */
    public boolean offersChannelBinding() {
        return channelBinding != null;
    }

    /** @return the server-first-message */
    public byte[] handleClientFirst(byte[] clientFirstMessage) throws AuthenticationException {
        return handleClientFirst(clientFirstMessage, false);
    }

    /**
     * @param plusSelected the client chose SCRAM-SHA-256-PLUS
     * @return the server-first-message
     */
    public byte[] handleClientFirst(byte[] clientFirstMessage, boolean plusSelected) throws AuthenticationException {
        expect(Stage.EXPECT_CLIENT_FIRST);
        stage = Stage.DONE; // any failure below ends the exchange
        if (plusSelected && channelBinding == null) {
            throw new AuthenticationException("SCRAM-SHA-256-PLUS was not offered on this connection");
        }
        Cursor cursor = new Cursor(text(clientFirstMessage));
        boolean binds = false;
        switch (cursor.next()) {
            case 'n' -> {
                if (plusSelected) {
                    throw malformed("the client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not "
                            + "include channel binding data");
                }
            }
            case 'y' -> {
                if (plusSelected) {
                    throw malformed("the client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not "
                            + "include channel binding data");
                }
                // The client could bind but believes we cannot: someone between us removed -PLUS from our offer.
                if (channelBinding != null) {
                    throw new AuthenticationException("SCRAM channel binding negotiation error: the client "
                            + "supports channel binding but thinks the server does not, though it does");
                }
            }
            case 'p' -> {
                if (!plusSelected) {
                    throw malformed("the client selected SCRAM-SHA-256 without channel binding, but the SCRAM "
                            + "message includes channel binding data");
                }
                cursor.expect('=');
                String type = cursor.upTo(',');
                if (!TlsServerEndPoint.NAME.equals(type)) {
                    throw new AuthenticationException("unsupported SCRAM channel-binding type \"" + type + "\"");
                }
                binds = true;
            }
            default -> throw malformed("unexpected channel binding flag");
        }
        cursor.expect(',');
        if (cursor.peek() == 'a') {
            throw new AuthenticationException("client uses an authorization identity, which is not supported");
        }
        cursor.expect(',');
        gs2Header = cursor.consumed();
        byte[] header = gs2Header.getBytes(StandardCharsets.US_ASCII);
        expectedEcho = binds ? concat(header, channelBinding) : header;
        clientFirstBare = cursor.rest();
        if (cursor.peek() == 'm') {
            throw malformed("unsupported mandatory extension");
        }
        cursor.attribute('n'); // PostgreSQL ignores it: the user was fixed by the startup packet
        cursor.expect(',');
        String clientNonce = cursor.attribute('r');
        if (!isPrintable(clientNonce)) {
            throw malformed("client nonce must be printable");
        }
        // Anything after the nonce is an optional extension, which we may ignore.
        String serverPart = serverNoncePart.get();
        if (!isPrintable(serverPart)) {
            throw new IllegalStateException("server nonce must be printable ASCII without commas");
        }
        nonce = clientNonce + serverPart;
        serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(secret.salt()) + ",i="
                + secret.iterations();
        stage = Stage.EXPECT_CLIENT_FINAL;
        return serverFirst.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Verifies the channel binding echo, the nonce and the proof.
     *
     * @return the server-final-message ("v=..."), which proves to the client that we know its secret
     */
    public byte[] handleClientFinal(byte[] clientFinalMessage) throws AuthenticationException {
        expect(Stage.EXPECT_CLIENT_FINAL);
        stage = Stage.DONE;
        String message = text(clientFinalMessage);
        Cursor cursor = new Cursor(message);
        byte[] echo = base64(cursor.attribute('c'), "channel binding");
        if (!MessageDigest.isEqual(echo, expectedEcho)) {
            throw new AuthenticationException("SCRAM channel binding check failed");
        }
        cursor.expect(',');
        String clientNonce = cursor.attribute('r');
        if (!MessageDigest.isEqual(clientNonce.getBytes(StandardCharsets.US_ASCII),
                nonce.getBytes(StandardCharsets.US_ASCII))) {
            throw new AuthenticationException("SCRAM nonce does not match");
        }
        int proofStart = message.lastIndexOf(",p=");
        if (proofStart < cursor.position()) {
            throw malformed("missing proof");
        }
        byte[] proof = base64(message.substring(proofStart + 3), "proof");
        if (proof.length != secret.storedKey().length) {
            throw malformed("proof has the wrong length");
        }
        String authMessage = clientFirstBare + "," + serverFirst + "," + message.substring(0, proofStart);
        if (!proofMatches(proof, authMessage)) {
            throw new AuthenticationException("password authentication failed");
        }
        byte[] serverSignature = ScramFunctions.serverSignature(ScramMechanism.SCRAM_SHA_256, secret.serverKey(),
                authMessage);
        return ("v=" + Base64.getEncoder().encodeToString(serverSignature)).getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The client's ClientKey, once {@link #handleClientFinal} accepted its proof: with the verifier's ServerKey it
     * answers a server holding the same verifier (pass-through). Never log it.
     */
    public byte[] clientKey() {
        if (clientKey == null) {
            throw new IllegalStateException("no proof has been accepted");
        }
        return clientKey.clone();
    }

    // ClientKey = proof XOR HMAC(StoredKey, AuthMessage); it is right iff H(ClientKey) == StoredKey.
    private boolean proofMatches(byte[] proof, String authMessage) {
        byte[] storedKey = secret.storedKey();
        byte[] clientSignature = ScramFunctions.clientSignature(ScramMechanism.SCRAM_SHA_256, storedKey, authMessage);
        byte[] clientKey = new byte[proof.length];
        for (int i = 0; i < proof.length; i++) {
            clientKey[i] = (byte) (proof[i] ^ clientSignature[i]);
        }
        byte[] computedStoredKey = ScramFunctions.hash(ScramMechanism.SCRAM_SHA_256, clientKey);
        boolean matches = MessageDigest.isEqual(computedStoredKey, storedKey);
        if (matches) {
            this.clientKey = clientKey;
        }
        return matches;
    }

    private void expect(Stage expected) {
        if (stage != expected) {
            throw new IllegalStateException("SCRAM exchange is not expecting this message (stage " + stage + ")");
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static Supplier<String> randomNonce() {
        SecureRandom random = new SecureRandom();
        return () -> {
            byte[] bytes = new byte[NONCE_BYTES];
            random.nextBytes(bytes);
            return Base64.getEncoder().encodeToString(bytes);
        };
    }

    private static String text(byte[] message) throws AuthenticationException {
        for (byte b : message) {
            if (b == 0) {
                throw malformed("unexpected NUL");
            }
        }
        // Only the ignored user name may be non-ASCII; decoding as UTF-8 keeps it intact for the AuthMessage.
        return new String(message, StandardCharsets.UTF_8);
    }

    private static boolean isPrintable(String nonce) {
        for (int i = 0; i < nonce.length(); i++) {
            char c = nonce.charAt(i);
            if (c < 0x21 || c > 0x7e || c == ',') {
                return false;
            }
        }
        return !nonce.isEmpty();
    }

    private static byte[] base64(String text, String what) throws AuthenticationException {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw malformed("invalid base64 in " + what);
        }
    }

    private static AuthenticationException malformed(String why) {
        return new AuthenticationException("malformed SCRAM message: " + why);
    }

    /** Walks a SCRAM message attribute by attribute. */
    private static final class Cursor {

        private final String text;
        private int position;

        Cursor(String text) {
            this.text = text;
        }

        int position() {
            return position;
        }

        char peek() {
            return position < text.length() ? text.charAt(position) : '\0';
        }

        char next() throws AuthenticationException {
            if (position >= text.length()) {
                throw malformed("unexpected end of message");
            }
            return text.charAt(position++);
        }

        void expect(char c) throws AuthenticationException {
            if (next() != c) {
                throw malformed("expected '" + c + "'");
            }
        }

        String consumed() {
            return text.substring(0, position);
        }

        String rest() {
            return text.substring(position);
        }

        /** Reads up to {@code c} (not consumed) or the end. */
        String upTo(char c) {
            int end = text.indexOf(c, position);
            if (end < 0) {
                end = text.length();
            }
            String value = text.substring(position, end);
            position = end;
            return value;
        }

        /** Reads "name=value" up to the next comma (not consumed) or the end. */
        String attribute(char name) throws AuthenticationException {
            if (next() != name) {
                throw malformed("expected attribute '" + name + "'");
            }
            expect('=');
            int end = text.indexOf(',', position);
            if (end < 0) {
                end = text.length();
            }
            String value = text.substring(position, end);
            position = end;
            return value;
        }
    }
}
