package io.pgwarden.config;

import java.util.Objects;

/** A user allowed to connect through the proxy. */
public record UserConfig(String name, String password, AuthMethod auth) {
    public UserConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(auth, "auth");
    }

    /** Whether {@link #password()} is the password itself or a form PostgreSQL stores (SCRAM verifier, md5 hash). */
    public SecretKind secretKind() {
        return SecretKind.of(password);
    }

    // Records print every component by default; configs end up in logs, so the password must not.
    @Override
    public String toString() {
        return "UserConfig[name=" + name + ", password=***, auth=" + auth + "]";
    }
}
