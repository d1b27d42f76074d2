package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;

/** The first packet of a connection (or of a cancel connection): the only untyped messages in the protocol. */
public sealed interface StartupRequest permits SslRequest, GssEncRequest, CancelRequest, StartupMessage {

    int CANCEL_REQUEST_CODE = 80877102;
    int SSL_REQUEST_CODE = 80877103;
    int GSSENC_REQUEST_CODE = 80877104;

    /**
     * Decodes a whole startup packet (as returned by {@link Frames#readStartupPacket}). Does not release it.
     *
     * @throws ProtocolException for unknown request codes and malformed packets
     */
    static StartupRequest decode(ByteBuf packet) {
        MessageReader reader = MessageReader.untyped(packet, "startup packet");
        int code = reader.readInt();
        switch (code) {
            case SSL_REQUEST_CODE -> {
                reader.expectEnd();
                return new SslRequest();
            }
            case GSSENC_REQUEST_CODE -> {
                reader.expectEnd();
                return new GssEncRequest();
            }
            case CANCEL_REQUEST_CODE -> {
                int processId = reader.readInt();
                int secretKey = reader.readInt();
                reader.expectEnd();
                return new CancelRequest(processId, secretKey);
            }
            default -> {
                // 1234 is the major version reserved for special request codes; an unknown one is not a version.
                if (code >>> 16 == 1234) {
                    throw new ProtocolException("unsupported startup request code " + code);
                }
                return new StartupMessage(code, StartupMessage.readParameters(reader, code));
            }
        }
    }
}
