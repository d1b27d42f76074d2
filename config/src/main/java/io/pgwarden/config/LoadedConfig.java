package io.pgwarden.config;

import java.util.List;
import java.util.Objects;

/**
 * A configuration together with what its file reveals: a startup check warns when a file that spells out
 * secrets can be read by others, and a secret taken from the environment is not in the file.
 *
 * @param secretsInFile key paths (such as {@code users.app.password}) of the secrets written in the file itself,
 *                      at least in part, rather than taken whole from {@code ${VAR}} references; never the values
 */
public record LoadedConfig(ProxyConfig config, List<String> secretsInFile) {
    public LoadedConfig {
        Objects.requireNonNull(config, "config");
        secretsInFile = List.copyOf(secretsInFile);
    }
}
