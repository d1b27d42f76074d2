package io.pgwarden.config;

import java.util.Objects;

/** A user allowed to connect through the proxy. */
public record UserConfig(String name, String password, AuthMethod auth) {
    public UserConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(auth, "auth");
    }

    // Records print every component by default; configs end up in logs, so the password must not.
    @Override
    public String toString() {
        return "UserConfig[name=" + name + ", password=***, auth=" + auth + "]";
    }
}
