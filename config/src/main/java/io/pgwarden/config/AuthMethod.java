package io.pgwarden.config;

/** How a client must prove its password to the proxy. */
public enum AuthMethod {
    SCRAM_SHA_256("scram-sha-256"),
    MD5("md5"),
    CLEARTEXT("cleartext");

    private final String yamlName;

    AuthMethod(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the configuration file, e.g. {@code scram-sha-256}. */
    public String yamlName() {
        return yamlName;
    }
}
