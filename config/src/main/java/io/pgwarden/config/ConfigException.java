package io.pgwarden.config;

import java.util.List;

/** The configuration could not be used; lists every problem found, not just the first. */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    /**
     * @param sourceName the file (or other source) the configuration came from
     * @param problems full sentences, each starting with the key path it concerns
     */
    public ConfigException(String sourceName, List<String> problems) {
        super(format(sourceName, problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }

    private static String format(String sourceName, List<String> problems) {
        StringBuilder message = new StringBuilder("invalid configuration ").append(sourceName).append(':');
        for (String problem : problems) {
            message.append("\n  - ").append(problem);
        }
        return message.toString();
    }
}
