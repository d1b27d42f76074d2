package io.pgwarden.config;

import java.util.Objects;

/** How the proxy treats the connections its clients open. */
public record ClientSettings(Keepalive keepalive) {
    private static final ClientSettings DEFAULTS = new ClientSettings(Keepalive.defaults());

    public ClientSettings {
        Objects.requireNonNull(keepalive, "keepalive");
    }

    /** The built-in values used for every key the configuration leaves out. */
    public static ClientSettings defaults() {
        return DEFAULTS;
    }
}
