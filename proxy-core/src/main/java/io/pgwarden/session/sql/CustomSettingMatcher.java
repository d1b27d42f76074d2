package io.pgwarden.session.sql;

import io.pgwarden.session.sql.StatementScanner.Kind;

/**
 * The custom setting a {@code SET [SESSION] prefix.name …} changes ({@code myapp.x}, any number of parts): PostgreSQL
 * lists such settings nowhere, so whoever reads a session's settings back must know their names. {@code SET LOCAL}
 * changes nothing that lasts.
 */
final class CustomSettingMatcher {

    private static final int DONE = -1;
    private static final int START = 0;
    private static final int PART = 1;
    private static final int DOT = 2;
    private static final int DOTTED = 3;

    private int step = DONE;
    private String name;

    /** A SET statement starts; anything else leaves the matcher done. */
    void start(boolean isSet) {
        step = isSet ? START : DONE;
        name = null;
    }

    /**
     * Takes the next token of the SET ({@code w} its {@link Vocabulary} code, {@code position} its place in the
     * statement); returns the dotted name, in lower case, once it is complete, else null.
     */
    String next(StatementScanner s, int w, int position) {
        boolean word = s.kind() == Kind.WORD || s.kind() == Kind.QUOTED_IDENTIFIER;
        switch (step) {
            case START -> {
                if (w == Vocabulary.LOCAL) {
                    step = DONE;
                } else if (w != Vocabulary.SESSION || position > 1) {
                    step = word ? PART : DONE;
                    name = word ? s.text() : null;
                }
            }
            case PART, DOTTED -> {
                if (s.isPunctuation('.')) {
                    step = DOT;
                } else {
                    return end();
                }
            }
            case DOT -> {
                step = word ? DOTTED : DONE;
                name = word ? name + "." + s.text() : null;
            }
            default -> {
            }
        }
        return null;
    }

    /** The statement ended: the name, if it had just been completed. */
    String end() {
        String found = step == DOTTED ? name.toLowerCase(java.util.Locale.ROOT) : null;
        step = DONE;
        name = null;
        return found;
    }
}
