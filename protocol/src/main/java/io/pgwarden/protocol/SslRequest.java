package io.pgwarden.protocol;

/** The client asks to switch to TLS before the startup message. */
public record SslRequest() implements StartupRequest {
}
