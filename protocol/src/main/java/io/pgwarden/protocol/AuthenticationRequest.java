package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An authentication request ('R') from PostgreSQL.
 *
 * @param data the bytes after the int32 type (salt, mechanism list or SASL payload, depending on the type)
 */
public record AuthenticationRequest(int type, byte[] data) {

    public static final int OK = 0;
    public static final int CLEARTEXT_PASSWORD = 3;
    public static final int MD5_PASSWORD = 5;
    public static final int SASL = 10;
    public static final int SASL_CONTINUE = 11;
    public static final int SASL_FINAL = 12;

    public AuthenticationRequest {
        data = data.clone();
    }

    public static AuthenticationRequest decode(ByteBuf message) {
        MessageReader reader = MessageReader.typed(message, "Authentication", Tags.Backend.AUTHENTICATION);
        int type = reader.readInt();
        return new AuthenticationRequest(type, reader.readRemaining());
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    /** The 4-byte salt of an MD5_PASSWORD request. */
    public byte[] md5Salt() {
        if (type != MD5_PASSWORD) {
            throw new IllegalStateException("not an MD5 password request (type " + type + ")");
        }
        if (data.length != 4) {
            throw new ProtocolException("MD5 salt must be 4 bytes, got " + data.length);
        }
        return data.clone();
    }

    /** The mechanisms offered by a SASL request, in the server's order of preference. */
    public List<String> saslMechanisms() {
        if (type != SASL) {
            throw new IllegalStateException("not a SASL request (type " + type + ")");
        }
        List<String> mechanisms = new ArrayList<>();
        int position = 0;
        while (true) {
            int nul = indexOfNul(position);
            if (nul == position) {
                break;
            }
            mechanisms.add(new String(data, position, nul - position, StandardCharsets.UTF_8));
            position = nul + 1;
        }
        if (position + 1 != data.length) {
            throw new ProtocolException("unexpected trailing bytes in AuthenticationSASL");
        }
        return List.copyOf(mechanisms);
    }

    private int indexOfNul(int from) {
        for (int i = from; i < data.length; i++) {
            if (data[i] == 0) {
                return i;
            }
        }
        throw new ProtocolException("missing string terminator in AuthenticationSASL");
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof AuthenticationRequest that && type == that.type && Arrays.equals(data, that.data);
    }

    @Override
    public int hashCode() {
        return 31 * type + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "AuthenticationRequest[type=" + type + ", " + data.length + " bytes]";
    }
}
