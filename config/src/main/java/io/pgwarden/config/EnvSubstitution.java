package io.pgwarden.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Expands {@code ${VAR}} and {@code ${VAR:-default}} in one scalar value; {@code $${} is a literal {@code ${}.
 *
 * <p>Works on parsed values rather than raw file text so that an environment value can never change the
 * YAML structure (a value containing ": " or a newline stays a single string). Problems never quote the
 * value itself, because the value may be a password.
 */
final class EnvSubstitution {
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /**
     * The expanded value, or problems (sentences without a key path) when it could not be expanded.
     *
     * @param fromFile some of the value is spelled out in the file (literal text or a default that was used),
     *                 so whoever can read the file can read that part
     */
    record Result(String value, List<String> problems, boolean fromFile) {
        Result {
            problems = List.copyOf(problems);
        }

        boolean ok() {
            return problems.isEmpty();
        }
    }

    private final Map<String, String> env;

    EnvSubstitution(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    Result apply(String text) {
        StringBuilder out = new StringBuilder(text.length());
        List<String> problems = new ArrayList<>();
        boolean fromFile = false;
        int i = 0;
        while (i < text.length()) {
            if (text.startsWith("$${", i)) {
                out.append("${");
                fromFile = true;
                i += 3;
            } else if (text.startsWith("${", i)) {
                int close = text.indexOf('}', i + 2);
                if (close < 0) {
                    problems.add("'${' has no closing '}'; write $${ for a literal ${");
                    break;
                }
                fromFile |= expand(text.substring(i + 2, close), out, problems);
                i = close + 1;
            } else {
                out.append(text.charAt(i));
                fromFile = true;
                i++;
            }
        }
        return new Result(out.toString(), problems, fromFile);
    }

    /** @return true when the file's default was used in place of the variable */
    private boolean expand(String reference, StringBuilder out, List<String> problems) {
        int separator = reference.indexOf(":-");
        String name = separator < 0 ? reference : reference.substring(0, separator);
        if (!NAME.matcher(name).matches()) {
            problems.add("a '${...}' reference has an invalid variable name; write ${NAME} or ${NAME:-default}"
                    + " where NAME is letters, digits and _ (write $${ for a literal ${)");
            return false;
        }
        String value = env.get(name);
        if (separator >= 0) {
            // Like the shell's :-, an empty variable also falls back to the default.
            boolean useDefault = value == null || value.isEmpty();
            out.append(useDefault ? reference.substring(separator + 2) : value);
            return useDefault && separator + 2 < reference.length();
        }
        if (value != null) {
            out.append(value);
        } else {
            problems.add("environment variable " + name + " is not set (use ${" + name
                    + ":-default} to give a default)");
        }
        return false;
    }
}
