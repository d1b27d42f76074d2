package io.pgwarden.session.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgwarden.protocol.Tags;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What pins a client, what makes a session unrestorable, what DROP DATABASE drops: on tokens, in every statement. */
class StatementEffectsTest {

    @Test
    void rolesPinInAnyStatementAndSpelling() {
        for (String sql : new String[] {"SELECT 1; SET ROLE x", "set role x", "SET\n  ROLE\tx", "SET SESSION ROLE x",
            "SET role = 'x'", "SET role TO x", "SET \"role\" = x", "SET \"ROLE\" TO x", "/* c */ SET -- c\n ROLE x",
            "select set_config('role', 'x', false)", "SELECT pg_catalog.set_config('ROLE', 'x', 'off')",
            "SELECT set_config('role', $1, $2)", "SELECT set_config('role', 'x', (true))",
            "SELECT 1; SELECT 2; SET ROLE x; SET SESSION AUTHORIZATION y"}) {
            assertThat(pinning(sql)).as(sql).isEqualTo("SET ROLE");
        }
        for (String sql : new String[] {"SET SESSION AUTHORIZATION x", "SET session_authorization = x",
            "SET SESSION SESSION AUTHORIZATION 'x'", "SELECT set_config('session_authorization', 'x', false)"}) {
            assertThat(pinning(sql)).as(sql).isEqualTo("SET SESSION AUTHORIZATION");
        }
    }

    @Test
    void whatEndsWithTheTransactionOrOnlySpellsARoleDoesNotPin() {
        for (String sql : new String[] {"SET LOCAL ROLE x", "SET LOCAL SESSION AUTHORIZATION x", "SET ROLE NONE",
            "SET role = DEFAULT", "SET SESSION AUTHORIZATION DEFAULT", "RESET ROLE", "SELECT 'SET ROLE x'",
            "-- SET ROLE x", "/* SET ROLE x */ SELECT 1", "SELECT $$; SET ROLE x$$", "SELECT \"SET ROLE x\"",
            "SELECT 1 -- ; SET ROLE x", "UPDATE t SET role = 'x'", "ALTER ROLE r SET role TO x",
            "SELECT set_config('role', 'x', true)", "SELECT set_config('role', 'x', 'on')",
            "SELECT set_config('work_mem', '1MB', false)", "SELECT current_setting('role')",
            "DO $$ BEGIN RAISE NOTICE 'SET ROLE x'; UPDATE t SET role = 'a'; END $$", "SET search_path = public"}) {
            assertThat(pinning(sql)).as(sql).isNull();
        }
    }

    @Test
    void temporaryObjectsPinAsPostgreSqlsGrammarSpellsThem() {
        for (String sql : new String[] {"CREATE TEMP TABLE t (v int)", "create temporary table t (v int)",
            "CREATE LOCAL TEMP TABLE t ()", "CREATE GLOBAL TEMPORARY TABLE t ()", "CREATE TEMP TABLE t AS SELECT 1",
            "SELECT 1 AS a INTO TEMP t", "SELECT * INTO TEMPORARY TABLE t FROM x", "SELECT 1 INTO LOCAL TEMP t",
            "EXPLAIN ANALYZE CREATE TEMP TABLE t AS SELECT 1", "SELECT 1; CREATE TEMP TABLE t ()"}) {
            assertThat(pinning(sql)).as(sql).isEqualTo("a temporary table");
        }
        assertThat(pinning("CREATE TEMP VIEW v AS SELECT 1")).isEqualTo("a temporary view");
        assertThat(pinning("CREATE OR REPLACE TEMPORARY RECURSIVE VIEW v (n) AS SELECT 1"))
                .isEqualTo("a temporary view");
        assertThat(pinning("CREATE TEMP SEQUENCE s")).isEqualTo("a temporary sequence");
        for (String sql : new String[] {"CREATE TABLE pg_temp.t ()", "CREATE FUNCTION pg_temp.f() RETURNS int AS 'x'",
            "SET search_path = pg_temp, public", "SET LOCAL search_path TO '\"$user\", pg_temp'",
            "SELECT set_config('search_path', 'pg_temp,public', true)", "SELECT * FROM pg_temp_3.t"}) {
            assertThat(pinning(sql)).as(sql).isEqualTo("the pg_temp schema");
        }
    }

    @Test
    void tablesThatAreNotTemporaryDoNotPin() {
        for (String sql : new String[] {"CREATE UNLOGGED TABLE t ()", "CREATE TABLE temp (v int)",
            "INSERT INTO temp VALUES (1)", "MERGE INTO temp t USING s ON true WHEN MATCHED THEN DELETE",
            "SELECT 'temporary'", "SELECT 1 -- CREATE TEMP TABLE x", "GRANT CREATE, TEMP ON DATABASE d TO r",
            "SELECT pg_my_temp_schema()", "SELECT * FROM pg_namespace WHERE nspname LIKE 'pg_temp%'",
            "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$CREATE TEMP TABLE x ()$$",
            "DO $$ DECLARE temp int; BEGIN SELECT 1 INTO temp FROM t; EXECUTE 'x' INTO temp USING 1; END $$"}) {
            assertThat(pinning(sql)).as(sql).isNull();
        }
    }

    @Test
    void aDoBlockBodyIsReadAsStatements() {
        assertThat(pinning("DO $$BEGIN SET ROLE x; END$$")).isEqualTo("SET ROLE");
        assertThat(pinning("DO LANGUAGE plpgsql $f$ BEGIN IF true THEN SET SESSION AUTHORIZATION y; END IF; END $f$"))
                .isEqualTo("SET SESSION AUTHORIZATION");
        assertThat(pinning("DO 'BEGIN PERFORM set_config(''role'', ''x'', false); END'")).isEqualTo("SET ROLE");
        assertThat(pinning("DO $$BEGIN CREATE TEMP TABLE x (); END$$")).isEqualTo("a temporary table");
        assertThat(unrestorable("DO $$BEGIN PERFORM pg_advisory_lock(1); END$$")).isEqualTo("a session advisory lock");
    }

    @Test
    void withStandardConformingStringsOffALiteralEndingInABackslashQuoteHidesNothing() {
        assertThat(pinning("SELECT 'x\\'' ; SET ROLE y; --'")).isEqualTo("SET ROLE");
    }

    @Test
    void aStatementAfterALongFirstOneIsSeen() {
        assertThat(pinning("SELECT '" + "x".repeat(300) + "' AS long_first; SET ROLE x")).isEqualTo("SET ROLE");
        assertThat(pinning("SELECT 1 /* " + "y".repeat(9000) + " */; CREATE TEMP TABLE t ()"))
                .isEqualTo("a temporary table");
    }

    @Test
    void sessionStateThatCannotBeRebuilt() {
        assertThat(unrestorable("LISTEN ch")).isEqualTo("LISTEN");
        assertThat(unrestorable("SELECT 1; listen \"Ch\"")).isEqualTo("LISTEN");
        for (String sql : new String[] {"SELECT pg_advisory_lock(1)", "SELECT pg_try_advisory_lock_shared(1, 2)",
            "SELECT \"pg_advisory_lock\"(1)", "SELECT pg_catalog.pg_try_advisory_lock(1)",
            "SELECT x FROM t WHERE pg_advisory_lock_shared(t.id) IS NOT NULL"}) {
            assertThat(unrestorable(sql)).as(sql).isEqualTo("a session advisory lock");
        }
        assertThat(unrestorable("DECLARE c CURSOR WITH HOLD FOR SELECT 1")).isEqualTo("a WITH HOLD cursor");
        assertThat(unrestorable("DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT 1")).isEqualTo("a WITH HOLD cursor");
        assertThat(unrestorable("PREPARE p (int) AS SELECT $1")).isEqualTo("PREPARE");
        assertThat(unrestorable("PREPARE transaction AS SELECT 1")).isEqualTo("PREPARE");
        assertThat(unrestorable("SELECT lo_open(1, 262144)")).isEqualTo("lo_open");
        assertThat(unrestorable("SELECT 1; SET ROLE x")).isEqualTo("SET ROLE");
        assertThat(unrestorable("CREATE TEMP TABLE t ()")).isEqualTo("a temporary table");
        assertThat(unrestorable("SELECT relname FROM pg_temp.t")).isEqualTo("the pg_temp schema");
    }

    @Test
    void sessionStateThatEndsWithTheTransactionOrIsOnlySpelled() {
        for (String sql : new String[] {"SELECT 'temporary'", "SELECT 'listen', 'temp table', 'pg_temp'",
            "SELECT 1 -- LISTEN x", "UNLISTEN *", "NOTIFY ch, 'listen'", "SELECT pg_advisory_xact_lock(1)",
            "SELECT pg_try_advisory_xact_lock_shared(1)", "SELECT pg_advisory_unlock(1)",
            "DECLARE c CURSOR FOR SELECT 1", "DECLARE c CURSOR WITHOUT HOLD FOR SELECT 1",
            "DECLARE c CURSOR FOR WITH hold AS (SELECT 1) SELECT * FROM hold", "PREPARE TRANSACTION 'gid'",
            "COMMIT PREPARED 'gid'", "EXECUTE p (1)", "SET LOCAL ROLE x", "SELECT 'lo_open'", "SELECT prepared"}) {
            assertThat(unrestorable(sql)).as(sql).isNull();
        }
    }

    @Test
    void dropDatabaseNamesTheDatabaseAsPostgreSqlFoldsIt() {
        assertThat(dropped("DROP DATABASE foo")).isEqualTo("foo");
        assertThat(dropped("drop database \"My\"\"Db\"")).isEqualTo("My\"Db");
        assertThat(dropped("DROP DATABASE IF EXISTS Foo WITH (FORCE)")).isEqualTo("foo");
        assertThat(dropped("DROP /* c */ DATABASE\n\"x y\"; ")).isEqualTo("x y");
        assertThat(dropped("SELECT 1; DROP DATABASE second")).isEqualTo("second");
        assertThat(dropped("DROP DATABASE " + "d".repeat(80))).isEqualTo("d".repeat(63));
        for (String sql : new String[] {"DROP TABLE foo", "-- DROP DATABASE foo", "SELECT 'DROP DATABASE foo'",
            "DROP DATABASE", "DROP DATABASE U&\"d\\0061t\"", "ALTER DATABASE foo RENAME TO bar"}) {
            assertThat(dropped(sql)).as(sql).isNull();
        }
    }

    @Test
    void aParseMessageIsReadForItsStatementText() {
        ByteBuf parse = Unpooled.buffer();
        parse.writeByte(Tags.Frontend.PARSE).writeInt(0);
        parse.writeCharSequence("SET ROLE stmt_name", StandardCharsets.UTF_8);
        parse.writeByte(0);
        parse.writeCharSequence("SELECT 1 FROM t", StandardCharsets.UTF_8);
        parse.writeByte(0).writeShort(1).writeInt(23);
        assertThat(StatementEffects.of(parse, Tags.Frontend.PARSE, StatementEffects.PINNING)).as("the name").isNull();
        ByteBuf query = query("CREATE TEMP TABLE t ()");
        assertThat(StatementEffects.of(query, Tags.Frontend.QUERY, StatementEffects.PINNING).pinning())
                .isEqualTo("a temporary table");
        assertThat(StatementEffects.of(query, Tags.Frontend.SYNC, StatementEffects.PINNING)).isNull();
    }

    @Test
    void sessionStateOtherClientsWouldInheritPinsToo() {
        assertThat(pinning("SELECT pg_advisory_lock(1)")).isEqualTo("a session advisory lock");
        assertThat(pinning("SELECT 1; SELECT pg_try_advisory_lock_shared(1, 2)")).isEqualTo("a session advisory lock");
        assertThat(pinning("BEGIN; DECLARE c CURSOR WITH HOLD FOR SELECT 1; COMMIT")).isEqualTo("a WITH HOLD cursor");
        assertThat(pinning("PREPARE p (int) AS SELECT $1")).isEqualTo("PREPARE");
        assertThat(pinning("LOAD 'auto_explain'")).isEqualTo("LOAD");
        assertThat(pinning("CREATE TABLE pg_temp.t AS SELECT 1")).isEqualTo("the pg_temp schema");
        assertThat(pinning("CREATE TABLE \"pg_temp\".t (v int)")).isEqualTo("the pg_temp schema");
        assertThat(pinning("SELECT 1; CREATE VIEW PG_TEMP.v AS SELECT 1")).isEqualTo("the pg_temp schema");
        assertThat(pinning("CREATE SEQUENCE pg_temp.s")).isEqualTo("the pg_temp schema");
        assertThat(pinning("CREATE TEMP TABLE t AS SELECT 1 WITH NO DATA")).isEqualTo("a temporary table");
        for (String sql : new String[] {"SELECT pg_advisory_xact_lock(1)", "PREPARE TRANSACTION 'g'",
            "DECLARE c CURSOR FOR SELECT 1", "SELECT 'LOAD x'", "SELECT load FROM t", "EXECUTE p (1)"}) {
            assertThat(pinning(sql)).as(sql).isNull();
        }
    }

    @Test
    void settingsChangedWithoutASetCommandTagAreSeenWithTheirCustomNames() {
        for (String sql : new String[] {"SELECT set_config('work_mem', '1MB', false)",
            "SELECT pg_catalog.set_config('work_mem', $1, $2)", "SELECT 1, set_config('a', 'b', 'off')",
            "SELECT set_config('work_mem', '1' || 'MB', false)", "DO $$BEGIN SET work_mem = '1MB'; END$$",
            "DO $$BEGIN RESET ALL; END$$", "DO $$BEGIN PERFORM set_config('x', 'y', false); END$$"}) {
            StatementEffects.Found found = found(sql, StatementEffects.SETTINGS);
            assertThat(found).as(sql).isNotNull();
            assertThat(found.settings()).as(sql).isTrue();
            assertThat(found.customSettings()).as(sql).isNull();
        }
        for (String sql : new String[] {"SELECT set_config('work_mem', '1MB', true)", "SELECT current_setting('a.b')",
            "SELECT 'set_config(''a.b'', ''1'', false)'", "UPDATE t SET a = 1", "SELECT 1"}) {
            assertThat(found(sql, StatementEffects.SETTINGS)).as(sql).isNull();
        }
        assertThat(custom("SET myapp.x = 1")).containsExactly("myapp.x");
        assertThat(custom("SET myapp.x = 'it''s A'")).containsExactly("myapp.x");
        assertThat(custom("SET myapp.x = 'a\\'")).containsExactly("myapp.x");
        assertThat(custom("SET SESSION MyApp.\"Y\" TO 'v'; SET a.b.c = 2")).containsExactly("myapp.y", "a.b.c");
        assertThat(custom("SELECT set_config('MyApp.z', 'v', false), set_config('w.v', 'v', true)"))
                .containsExactly("myapp.z");
        assertThat(custom("DO $$BEGIN SET inner.x = 1; END$$")).containsExactly("inner.x");
        assertThat(custom("SET LOCAL myapp.x = 1")).isNull();
        assertThat(custom("SET statement_timeout = 1")).isNull();
        assertThat(found("SET LOCAL myapp.x = 1", StatementEffects.PINNING)).as("not wanted").isNull();
    }

    @Test
    void aPlainSelectAllocatesNothing() {
        assertAllocatesNothing(query("SELECT a.id, b.name FROM accounts a JOIN branches b USING (bid) WHERE a.aid = $1 "
                + "AND b.note <> 'SET ROLE x' -- the usual\n; SELECT 2"));
        assertAllocatesNothing(query("DO $$ BEGIN RAISE NOTICE 'SET ROLE x'; END $$"));
    }

    private static void assertAllocatesNothing(ByteBuf query) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int wanted = StatementEffects.PINNING | StatementEffects.UNRESTORABLE | StatementEffects.DROPPED_DATABASE
                | StatementEffects.SETTINGS;
        for (int i = 0; i < 20_000; i++) {
            assertThat(StatementEffects.of(query, Tags.Frontend.QUERY, wanted)).isNull();
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++) {
            StatementEffects.of(query, Tags.Frontend.QUERY, wanted);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        // The smallest object is 16 bytes: one per scan would be 160,000. What remains is the JVM's own noise.
        assertThat(allocated).as("bytes allocated by 10,000 scans").isLessThan(16_000);
    }

    private static ByteBuf query(String sql) {
        ByteBuf query = Unpooled.buffer();
        query.writeByte(Tags.Frontend.QUERY).writeInt(0);
        query.writeCharSequence(sql, StandardCharsets.UTF_8);
        query.writeByte(0);
        return query;
    }

    private static StatementEffects.Found found(String sql, int wanted) {
        return StatementEffects.of(query(sql), Tags.Frontend.QUERY, wanted);
    }

    private static String pinning(String sql) {
        StatementEffects.Found found = found(sql, StatementEffects.PINNING);
        return found == null ? null : found.pinning();
    }

    private static String unrestorable(String sql) {
        StatementEffects.Found found = found(sql, StatementEffects.UNRESTORABLE);
        return found == null ? null : found.unrestorable();
    }

    private static java.util.List<String> custom(String sql) {
        StatementEffects.Found found = found(sql, StatementEffects.SETTINGS);
        assertThat(found).as(sql).isNotNull();
        return found.customSettings();
    }

    private static String dropped(String sql) {
        StatementEffects.Found found = found(sql, StatementEffects.DROPPED_DATABASE);
        return found == null ? null : found.droppedDatabase();
    }
}
