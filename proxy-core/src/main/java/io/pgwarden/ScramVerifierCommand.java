package io.pgwarden;

import io.pgwarden.protocol.auth.ScramSecret;
import java.io.ByteArrayOutputStream;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pgwarden scram-verifier}: prints the SCRAM-SHA-256 verifier of a password, for users.<name>.password and
 * ALTER ROLE ... PASSWORD. The password comes from the terminal without echo, or from stdin; never from an argument,
 * which every user of the machine could read in the process list and which shells keep in their history.
 */
@Command(name = "scram-verifier", mixinStandardHelpOptions = true,
        description = {"Prints the SCRAM-SHA-256 verifier of a password, as PostgreSQL stores it in pg_authid.",
                "The password is read from the terminal (without echo, asked twice), or from stdin when that is not a"
                        + " terminal or --stdin is given (one line; its line break is not part of it)."})
final class ScramVerifierCommand implements Callable<Integer> {

    /** Longer than any password; a larger input is a file piped in by mistake. */
    private static final int MAX_PASSWORD_BYTES = 1024;

    @Option(names = "--stdin", description = "Read the password from stdin even when it is a terminal.")
    private boolean stdin;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "4096",
            description = "PBKDF2 iteration count (default ${DEFAULT-VALUE}, PostgreSQL's scram_iterations default).")
    private int iterations;

    private final Console console;
    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;

    ScramVerifierCommand() {
        this(System.console(), System.in, System.out, System.err);
    }

    ScramVerifierCommand(Console console, InputStream in, PrintStream out, PrintStream err) {
        this.console = console;
        this.in = in;
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() throws IOException {
        if (iterations < 1) {
            err.println("pgwarden scram-verifier: --iterations must be at least 1, got " + iterations);
            return 2;
        }
        char[] password = stdin || console == null ? fromStdin() : fromConsole();
        if (password == null) {
            return 2;
        }
        try {
            if (password.length == 0) {
                // PostgreSQL refuses empty passwords, and an empty one would mostly mean a pipe that gave nothing.
                err.println("pgwarden scram-verifier: the password is empty; PostgreSQL does not accept empty"
                        + " passwords");
                return 2;
            }
            byte[] salt = new byte[ScramSecret.DEFAULT_SALT_LENGTH];
            new SecureRandom().nextBytes(salt);
            out.println(ScramSecret.fromPassword(new String(password), salt, iterations).toPgSecret());
            return 0;
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    private char[] fromConsole() {
        char[] first = console.readPassword("Password: ");
        char[] again = first == null ? null : console.readPassword("Enter it again: ");
        if (first == null || again == null) {
            err.println("pgwarden scram-verifier: no password read");
            return null;
        }
        boolean same = Arrays.equals(first, again);
        Arrays.fill(again, '\0');
        if (!same) {
            Arrays.fill(first, '\0');
            err.println("pgwarden scram-verifier: the passwords do not match");
            return null;
        }
        return first;
    }

    private char[] fromStdin() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (bytes.size() >= MAX_PASSWORD_BYTES) {
                err.println("pgwarden scram-verifier: the password on stdin is longer than " + MAX_PASSWORD_BYTES
                        + " bytes");
                return null;
            }
            bytes.write(b);
        }
        String line = bytes.toString(StandardCharsets.UTF_8);
        if (line.endsWith("\r")) {
            line = line.substring(0, line.length() - 1);
        }
        return line.toCharArray();
    }
}
