package io.pgwarden.config;

import java.util.LinkedHashMap;
import java.util.Map;

/** libpq's {@code sslmode}, with the same spellings and meanings, so a libpq connection string translates as is. */
public enum ServerTlsMode {
    /** Plain text only. */
    DISABLE("disable"),
    /** Plain text first; TLS only if the server refuses the plain login. */
    ALLOW("allow"),
    /** TLS first; plain text if the server has no TLS or refuses the TLS login. */
    PREFER("prefer"),
    /** TLS or nothing; the certificate is checked only when a CA file is given. */
    REQUIRE("require"),
    /** TLS, with the certificate signed by a trusted CA. */
    VERIFY_CA("verify-ca"),
    /** As verify-ca, and the certificate names the host connected to. */
    VERIFY_FULL("verify-full");

    private final String spelling;

    ServerTlsMode(String spelling) {
        this.spelling = spelling;
    }

    public String spelling() {
        return spelling;
    }

    /** Whether a server without TLS, or refusing it, is a failure rather than a reason to talk in plain text. */
    public boolean requiresTls() {
        return this == REQUIRE || this == VERIFY_CA || this == VERIFY_FULL;
    }

    static Map<String, ServerTlsMode> bySpelling() {
        Map<String, ServerTlsMode> modes = new LinkedHashMap<>();
        for (ServerTlsMode mode : values()) {
            modes.put(mode.spelling, mode);
        }
        return modes;
    }
}
