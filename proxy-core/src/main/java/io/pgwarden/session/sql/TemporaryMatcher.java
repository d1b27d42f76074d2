package io.pgwarden.session.sql;

/**
 * Statements that create temporary objects by keyword, wherever in the statement (so EXPLAIN ANALYZE CREATE
 * TEMP… counts): {@code CREATE [OR REPLACE] [LOCAL|GLOBAL] TEMP|TEMPORARY} (PostgreSQL's OptTemp: UNLOGGED is
 * its alternative, never combined with TEMP) and {@code SELECT … INTO [LOCAL|GLOBAL] TEMP|TEMPORARY …}.
 */
final class TemporaryMatcher {

    static final String TABLE = "a temporary table";
    static final String VIEW = "a temporary view";
    static final String SEQUENCE = "a temporary sequence";

    private int createStep;
    private int intoStep;

    void start() {
        createStep = 0;
        intoStep = 0;
    }

    /**
     * Takes the next token ({@code w} its {@link Vocabulary} code, {@code previous} the code of the one
     * before); returns what the statement creates once it is known, else null.
     */
    String next(StatementScanner s, int w, int previous) {
        String create = create(w);
        String into = into(s, w, previous);
        return create != null ? create : into;
    }

    private String create(int w) {
        String found = null;
        int next = 0;
        switch (createStep) {
            case 1 -> next = w == Vocabulary.OR ? 2 : afterCreate(w);
            case 2 -> next = w == Vocabulary.REPLACE ? 3 : 0;
            case 3 -> next = afterCreate(w);
            case 4 -> next = isTemp(w) ? 5 : 0;
            case 5 -> found = w == Vocabulary.VIEW || w == Vocabulary.RECURSIVE ? VIEW
                    : w == Vocabulary.SEQUENCE ? SEQUENCE : TABLE;
            default -> {
            }
        }
        createStep = w == Vocabulary.CREATE ? 1 : next;
        return found;
    }

    private static int afterCreate(int w) {
        return w == Vocabulary.LOCAL || w == Vocabulary.GLOBAL ? 4 : isTemp(w) ? 5 : 0;
    }

    /** INSERT INTO and MERGE INTO name tables, which may be called temp. */
    private String into(StatementScanner s, int w, int previous) {
        String found = null;
        int next = 0;
        switch (intoStep) {
            case 1 -> next = isTemp(w) ? 3 : w == Vocabulary.LOCAL || w == Vocabulary.GLOBAL ? 2 : 0;
            case 2 -> next = isTemp(w) ? 3 : 0;
            case 3 -> {
                // In a DO body, SELECT … INTO temp FROM and EXECUTE … INTO temp USING fill a variable named temp.
                boolean name = s.kind() == StatementScanner.Kind.WORD
                        || s.kind() == StatementScanner.Kind.QUOTED_IDENTIFIER;
                if (name && w != Vocabulary.FROM && w != Vocabulary.USING) {
                    found = TABLE;
                }
            }
            default -> {
            }
        }
        intoStep = w == Vocabulary.INTO && previous != Vocabulary.INSERT && previous != Vocabulary.MERGE ? 1 : next;
        return found;
    }

    private static boolean isTemp(int w) {
        return w == Vocabulary.TEMP || w == Vocabulary.TEMPORARY;
    }
}
