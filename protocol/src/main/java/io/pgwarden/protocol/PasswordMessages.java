package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * What a client sent in a 'p' message. The message does not say what it is, so the caller picks the decoder
 * according to the authentication request it sent. All decode whole messages (header included) and never release.
 */
public final class PasswordMessages {

    private PasswordMessages() {
    }

    /** A cleartext password or MD5 response. */
    public static String password(ByteBuf message) {
        MessageReader reader = reader(message);
        String password = reader.readCString();
        reader.expectEnd();
        return password;
    }

    /** @param data the client-first-message; empty when the client sent length -1 */
    public record SaslInitial(String mechanism, byte[] data) {

        public SaslInitial {
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof SaslInitial that && mechanism.equals(that.mechanism)
                    && Arrays.equals(data, that.data);
        }

        @Override
        public int hashCode() {
            return 31 * mechanism.hashCode() + Arrays.hashCode(data);
        }

        // The data is credential material; keep it out of logs.
        @Override
        public String toString() {
            return "SaslInitial[mechanism=" + mechanism + ", " + data.length + " bytes]";
        }
    }

    public static SaslInitial saslInitialResponse(ByteBuf message) {
        MessageReader reader = reader(message);
        String mechanism = reader.readCString();
        int length = reader.readInt();
        byte[] data = length == -1 ? new byte[0] : reader.readBytes(length);
        reader.expectEnd();
        return new SaslInitial(mechanism, data);
    }

    public static byte[] saslResponse(ByteBuf message) {
        return reader(message).readRemaining();
    }

    private static MessageReader reader(ByteBuf message) {
        return MessageReader.typed(message, "PasswordMessage", Tags.Frontend.PASSWORD);
    }
}
