package io.pgwarden.protocol;

/** A framing or protocol violation by the peer. Mapping it to SQLSTATE 08P01 is up to the caller. */
public final class ProtocolException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }
}
