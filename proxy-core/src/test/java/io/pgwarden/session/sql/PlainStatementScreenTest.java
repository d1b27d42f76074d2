package io.pgwarden.session.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The screen that skips the scan of plain statements gives the full scan's answer on every text. */
class PlainStatementScreenTest {

    private static final int ALL = StatementEffects.PINNING | StatementEffects.UNRESTORABLE
            | StatementEffects.DROPPED_DATABASE | StatementEffects.SETTINGS;

    /** Statements with effects, spelled so that they hide behind a plain first word where they can. */
    private static final String[] EFFECTS = {
        "SET ROLE x", "set role x", "SET SESSION AUTHORIZATION x", "RESET ALL", "DISCARD ALL", "LISTEN c",
        "LOAD 'auto_explain'", "DROP DATABASE d", "PREPARE p AS SELECT 1", "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
        "DO $$ BEGIN SET ROLE x; END $$", "CREATE TEMP TABLE t (v int)",
        "SELECT 1; SET ROLE x", "SELECT 1;SET ROLE x", "select 1 ; set myapp.x = 1", "SELECT 1;\nLISTEN c",
        "BEGIN; SET LOCAL x.y = 1; COMMIT", "COMMIT; DROP DATABASE d",
        "SELECT set_config('role', 'x', false)", "select SET_CONFIG('myapp.user', 'x', false)",
        "SELECT pg_catalog.\"set_config\"('role', 'x', false)", "SELECT set_config ('a.b', 'x', false)",
        "SELECT 1 INTO TEMP t", "SELECT * INTO temporary TABLE t FROM x", "select 1 into local Temp t",
        "WITH a AS (SELECT 1) SELECT * INTO TEMP t FROM a", "SELECT * FROM pg_temp.t", "SELECT * FROM PG_TEMP_3.t",
        "SELECT * FROM \"pg_temp\".t", "SELECT pg_advisory_lock(1)", "select PG_TRY_ADVISORY_LOCK_SHARED(1, 2)",
        "SELECT \"pg_advisory_lock\"(1)", "SELECT lo_open(1, 262144)", "SELECT pg_catalog.LO_OPEN(1, 1)",
        "  \n\tSELECT pg_advisory_lock(1)", "SELECT 'x'; DO $$ BEGIN PERFORM set_config('role', 'x', false); END $$",
        "SELECT 'a\\'; SET ROLE x; '", "SELECT $$;$$; SET ROLE x", "SELECT 1 /* ; */ ; SET ROLE x",
        "INSERT INTO t SELECT 1; CREATE TEMP TABLE u ()", "UPDATE t SET v = 1; SET ROLE x",
        "EXPLAIN ANALYZE CREATE TEMP TABLE t AS SELECT 1", "/* c */ SET ROLE x", "-- c\nSET ROLE x",
        "VALUES (1); SET ROLE x", "SHOW role; SET role x",
    };

    /** Statements without effects, among them the ones the screen exists for. */
    private static final String[] PLAIN = {
        "SELECT abalance FROM pgbench_accounts WHERE aid = 12345;",
        "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
        "UPDATE pgbench_accounts SET abalance = abalance + -4 WHERE aid = 7;",
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 2, 3, 4, CURRENT_TIMESTAMP);",
        "BEGIN;", "END;", "COMMIT", "ROLLBACK", "begin isolation level serializable", "START TRANSACTION",
        "DELETE FROM t WHERE id = 1", "select 1", "  \n\t SELECT 1 ;  ;\n", "SeLeCt 1", "SELECT 'SET ROLE x'",
        "SELECT \"SET ROLE x\"", "SELECT 1 -- SET ROLE x", "SELECT 1 /* SET ROLE x */", "SELECT $$ SET ROLE x $$",
        "SELECT $tag$ ; SET ROLE x $tag$", "SELECT E'\\'' AS q", "SELECT U&\"d\\0061t\\+000061\" FROM t",
        "SELECT 'it''s'", "SELECT \"Quoted\"\"Name\" FROM \"T\"", "WITH a AS (SELECT 1) SELECT * FROM a",
        "VALUES (1), (2)", "SHOW search_path", "SELECT current_setting('role')", "SELECT 1 AS attempt",
        "SELECT 'template' AS contemplate", "SELECT * FROM lo_openings", "UPDATE t SET role = 'x'",
        "SELECT set_configuration FROM t", "SELECT 1; SELECT 2", "SELECT 1 INTO t", "SELECT 'é' AS \"naïve\"",
        "select\tnow()", "SELECT\n  *\nFROM\n  t", "SELECT 1;", "", "   ", ";", "selectx 1", "select_1",
    };

    @Test
    void everyTextGetsTheFullScansAnswer() {
        List<String> corpus = corpus();
        for (String sql : corpus) {
            for (int wanted : new int[] {ALL, StatementEffects.DROPPED_DATABASE | StatementEffects.PINNING,
                StatementEffects.DROPPED_DATABASE | StatementEffects.UNRESTORABLE | StatementEffects.SETTINGS,
                StatementEffects.DROPPED_DATABASE}) {
                ByteBuf text = Unpooled.copiedBuffer("xx" + sql + "yy", StandardCharsets.UTF_8);
                try {
                    int to = text.writerIndex() - 2;
                    assertThat(StatementEffects.ofText(text, 2, to, wanted))
                            .as("%s (wanted %d)", sql, wanted)
                            .isEqualTo(StatementEffects.ofText(text, 2, to, wanted, false));
                } finally {
                    text.release();
                }
            }
        }
    }

    @Test
    void statementsWithEffectsAreNeverScreenedOut() {
        PlainStatementScreen screen = new PlainStatementScreen();
        for (String sql : corpus()) {
            ByteBuf text = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
            try {
                if (screen.isPlain(text, 0, text.writerIndex())) {
                    assertThat(StatementEffects.ofText(text, 0, text.writerIndex(), ALL, false)).as(sql).isNull();
                }
            } finally {
                text.release();
            }
        }
    }

    @Test
    void theTransactionsOfAnOrdinaryLoadSkipTheScan() {
        PlainStatementScreen screen = new PlainStatementScreen();
        for (String sql : new String[] {"SELECT abalance FROM pgbench_accounts WHERE aid = 12345;",
            "UPDATE pgbench_branches SET bbalance = bbalance + 1 WHERE bid = 1;", "BEGIN;", "END;", "commit",
            " select * from orders where id = $1", "INSERT INTO t (a) VALUES ($1) RETURNING id",
            "DELETE FROM sessions WHERE expires < now()"}) {
            assertThat(isPlain(screen, sql)).as(sql).isTrue();
        }
        for (String sql : new String[] {"SELECT 1; SELECT 2", "/* hint */ SELECT 1", "SET ROLE x",
            "SELECT * FROM temp_table", "SELECT 1 " + "x".repeat(PlainStatementScreen.MAX_LENGTH)}) {
            assertThat(isPlain(screen, sql)).as(sql).isFalse();
        }
    }

    private static boolean isPlain(PlainStatementScreen screen, String sql) {
        ByteBuf text = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
        try {
            return screen.isPlain(text, 0, text.writerIndex());
        } finally {
            text.release();
        }
    }

    /** Each statement as written, in upper and lower case, after white space, and with a trailing {@code ;}. */
    private static List<String> corpus() {
        List<String> corpus = new ArrayList<>();
        for (String[] set : new String[][] {EFFECTS, PLAIN}) {
            for (String sql : set) {
                corpus.add(sql);
                corpus.add(sql.toUpperCase(Locale.ROOT));
                corpus.add(sql.toLowerCase(Locale.ROOT));
                corpus.add(" \r\n\t\f" + sql);
                corpus.add(sql + ";");
                corpus.add(sql + " ;\n");
                corpus.add(sql + "; SET ROLE x");
                corpus.add(sql + " -- SET ROLE x");
            }
        }
        return corpus;
    }
}
