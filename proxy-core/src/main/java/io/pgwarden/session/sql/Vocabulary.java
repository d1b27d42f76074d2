package io.pgwarden.session.sql;

import io.pgwarden.session.sql.StatementScanner.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * The words {@link StatementEffects} reacts to, each with a small code, so a token is looked up once and the
 * rules compare ints. Keywords count only unquoted; names (functions, a schema) quoted exactly too.
 */
final class Vocabulary {

    private static final String[] WORDS = {
        "set", "reset", "local", "session", "authorization", "to", "default",
        "create", "or", "replace", "global", "temp", "temporary", "view", "recursive", "sequence",
        "into", "insert", "merge", "from", "using",
        "drop", "database", "if", "exists",
        "listen", "load", "prepare", "transaction", "declare", "with", "hold", "for",
        "do", "begin", "then", "else", "loop", "true",
        // Names from here on.
        "set_config", "lo_open", "pg_temp",
        "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
    };

    static final int SET = code("set");
    static final int RESET = code("reset");
    static final int LOCAL = code("local");
    static final int SESSION = code("session");
    static final int AUTHORIZATION = code("authorization");
    static final int TO = code("to");
    static final int DEFAULT = code("default");
    static final int CREATE = code("create");
    static final int OR = code("or");
    static final int REPLACE = code("replace");
    static final int GLOBAL = code("global");
    static final int TEMP = code("temp");
    static final int TEMPORARY = code("temporary");
    static final int VIEW = code("view");
    static final int RECURSIVE = code("recursive");
    static final int SEQUENCE = code("sequence");
    static final int INTO = code("into");
    static final int INSERT = code("insert");
    static final int MERGE = code("merge");
    static final int FROM = code("from");
    static final int USING = code("using");
    static final int DROP = code("drop");
    static final int DATABASE = code("database");
    static final int IF = code("if");
    static final int EXISTS = code("exists");
    static final int LISTEN = code("listen");
    static final int LOAD = code("load");
    static final int PREPARE = code("prepare");
    static final int TRANSACTION = code("transaction");
    static final int DECLARE = code("declare");
    static final int WITH = code("with");
    static final int HOLD = code("hold");
    static final int FOR = code("for");
    static final int DO = code("do");
    static final int BEGIN = code("begin");
    static final int THEN = code("then");
    static final int ELSE = code("else");
    static final int LOOP = code("loop");
    static final int TRUE = code("true");
    static final int SET_CONFIG = code("set_config");
    static final int LO_OPEN = code("lo_open");
    static final int PG_TEMP = code("pg_temp");
    static final int PG_ADVISORY_LOCK = code("pg_advisory_lock");
    static final int PG_TRY_ADVISORY_LOCK_SHARED = code("pg_try_advisory_lock_shared");

    private static final int FIRST_NAME = SET_CONFIG;
    private static final int LONGEST = 32;
    /** Codes by word length: a token is compared with the few words as long as it is. */
    private static final int[][] BY_LENGTH = byLength();

    private Vocabulary() {
    }

    /** The token's code, or 0 for any other token. */
    static int code(StatementScanner s) {
        Kind kind = s.kind();
        if (kind != Kind.WORD && kind != Kind.QUOTED_IDENTIFIER) {
            return 0;
        }
        int length = s.length();
        if (length >= LONGEST) {
            return 0;
        }
        for (int code : BY_LENGTH[length]) {
            if (kind == Kind.WORD ? s.isKeyword(WORDS[code - 1]) : code >= FIRST_NAME && s.isName(WORDS[code - 1])) {
                return code;
            }
        }
        return 0;
    }

    private static int code(String word) {
        return List.of(WORDS).indexOf(word) + 1;
    }

    private static int[][] byLength() {
        List<List<Integer>> lists = new ArrayList<>();
        for (int i = 0; i < LONGEST; i++) {
            lists.add(new ArrayList<>());
        }
        for (int i = 0; i < WORDS.length; i++) {
            lists.get(WORDS[i].length()).add(i + 1);
        }
        int[][] table = new int[LONGEST][];
        for (int i = 0; i < LONGEST; i++) {
            table[i] = lists.get(i).stream().mapToInt(Integer::intValue).toArray();
        }
        return table;
    }
}
