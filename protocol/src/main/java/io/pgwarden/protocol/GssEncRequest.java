package io.pgwarden.protocol;

/** The client asks for GSSAPI encryption before the startup message. */
public record GssEncRequest() implements StartupRequest {
}
