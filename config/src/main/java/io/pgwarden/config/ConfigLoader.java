package io.pgwarden.config;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Reads and validates a pgwarden YAML configuration; nothing is started from a file that fails here. */
public final class ConfigLoader {
    private final EnvSubstitution env;

    /** @param env where {@code ${VAR}} references are looked up; main passes {@code System.getenv()} */
    public ConfigLoader(Map<String, String> env) {
        this.env = new EnvSubstitution(env);
    }

    public ProxyConfig load(Path file) throws ConfigException {
        return read(file).config();
    }

    /** As {@link #load}, also naming the secrets the file spells out. */
    public LoadedConfig read(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw unreadable(file, "does not exist");
        } catch (AccessDeniedException e) {
            throw unreadable(file, "cannot be read: permission denied");
        } catch (MalformedInputException e) {
            throw unreadable(file, "is not valid UTF-8 text");
        } catch (IOException e) {
            throw unreadable(file, "cannot be read: " + e.getMessage());
        }
        return read(text, file.toString());
    }

    /** @param sourceName names the configuration in error messages, usually the file path */
    public ProxyConfig parse(String yaml, String sourceName) throws ConfigException {
        return read(yaml, sourceName).config();
    }

    /** As {@link #parse}, also naming the secrets the text spells out. */
    public LoadedConfig read(String yaml, String sourceName) throws ConfigException {
        Object root = YamlDocument.parse(yaml, sourceName);
        ConfigReader reader = new ConfigReader(env);
        ProxyConfig config = new ConfigBinder(reader).bind(root)
                .orElseThrow(() -> new ConfigException(sourceName, reader.problems()));
        return new LoadedConfig(config, reader.secretsInFile());
    }

    private static ConfigException unreadable(Path file, String reason) {
        return new ConfigException(file.toString(), List.of(file + ": " + reason));
    }
}
