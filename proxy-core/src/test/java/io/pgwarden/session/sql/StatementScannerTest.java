package io.pgwarden.session.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Statements and tokens as PostgreSQL's lexer cuts them. */
class StatementScannerTest {

    @Test
    void statementsSplitOnSemicolonsAndEmptyOnesAreSkipped() {
        assertThat(statements(";;SELECT 1;; ;\n;SET ROLE x;")).containsExactly("select 1", "set role x");
        assertThat(statements("")).isEmpty();
        assertThat(statements(" ; -- nothing\n ; /* nor here */ ")).isEmpty();
    }

    @Test
    void commentsAreSkippedWithTheSemicolonsInThem() {
        assertThat(statements("SELECT 1 -- ; SET ROLE a\n; SELECT /* ; */ 2")).containsExactly("select 1", "select 2");
        assertThat(statements("SELECT 1 --x\r;SET ROLE b")).containsExactly("select 1", "set role b");
        assertThat(statements("-- SET ROLE x")).isEmpty();
    }

    @Test
    void blockCommentsNest() {
        assertThat(statements("SELECT /* a /* b; */ still; comment */ 1; SET ROLE x"))
                .containsExactly("select 1", "set role x");
        assertThat(statements("SELECT /*/ not closed by the slash; */ 1")).containsExactly("select 1");
        assertThat(statements("SELECT 1 /* /* unterminated */ ; SET ROLE x")).containsExactly("select 1");
    }

    @Test
    void literalsAreSingleTokensWithTheirEscapesUndone() {
        assertThat(statements("SELECT 'a;b', 'it''s;'; SET ROLE x"))
                .containsExactly("select 'a;b' , 'it's;'", "set role x");
        assertThat(statements("SELECT E'a\\';b', e'\\\\'; SET ROLE x"))
                .containsExactly("select 'a';b' , '\\'", "set role x");
        assertThat(statements("SELECT B'1;0', X'F;F', N'n;n', U&'d\\0061;t'; SET ROLE x"))
                .containsExactly("select '1;0' , 'F;F' , 'n;n' , 'd\\0061;t'", "set role x");
        assertThat(statements("SELECT 'never closed; SET ROLE x")).containsExactly("select 'never closed; SET ROLE x'");
    }

    @Test
    void aStandardLiteralKeepsItsBackslashesUnlessStandardConformingStringsIsOff() {
        String sql = "SELECT 'x\\'';SET ROLE y;--'";
        StatementScanner scanner = new StatementScanner();
        assertThat(statements(scanner, sql, false)).containsExactly("select 'x\\';SET ROLE y;--'");
        assertThat(scanner.sawBackslashInString()).isTrue();
        assertThat(statements(scanner, sql, true)).containsExactly("select 'x''", "set role y");
        assertThat(statements(scanner, "SELECT E'\\'' , 'plain'", false)).hasSize(1);
        assertThat(scanner.sawBackslashInString()).as("E'' escapes are the same either way").isFalse();
    }

    @Test
    void dollarQuotesEndOnlyAtTheirOwnTag() {
        assertThat(statements("SELECT $$a;b$$, $fn$ x $$ ; $FN$ $fn $fn$; SET ROLE x"))
                .containsExactly("select 'a;b' , ' x $$ ; $FN$ $fn '", "set role x");
        assertThat(statements("SELECT $a$ inside$a$; SET ROLE x")).containsExactly("select ' inside'", "set role x");
        assertThat(statements("SELECT $1, a$b$c, $ , $x; SET ROLE x"))
                .containsExactly("select $1 , a$b$c , $ , $ x", "set role x");
        assertThat(statements("DO $body$ unterminated; SET ROLE x")).containsExactly("do ' unterminated; SET ROLE x'");
    }

    @Test
    void quotedIdentifiersKeepTheirCaseWithDoubledQuotesUndone() {
        assertThat(statements("SELECT \"a;\"\"B\" FROM \"Tab\"; SET ROLE x"))
                .containsExactly("select \"a;\"B\" from \"Tab\"", "set role x");
        assertThat(statements("SELECT U&\"d\\0061t;a\" ; SET ROLE x"))
                .containsExactly("select \"d\\0061t;a\"", "set role x");
    }

    @Test
    void wordsFoldToLowerCaseAndAnyWhitespaceSeparatesThem() {
        assertThat(statements("SeT\n  RoLe\t\fX")).containsExactly("set role x");
        assertThat(statements("SELECT ÉtÉ, 1.5e3, .5, x::int"))
                .containsExactly("select ÉtÉ , 1.5e3 , .5 , x : : int");
    }

    @Test
    void aStatementFarIntoTheTextIsSeen() {
        String first = "SELECT '" + "x".repeat(300) + "'";
        assertThat(statements(first + "; SET ROLE x")).hasSize(2).last().isEqualTo("set role x");
        // Longer than the scanner's window, with a token and a dollar tag across its edges.
        String body = "y".repeat(5000);
        List<String> far = statements("SELECT $tag$" + body + "$tag$, " + "z".repeat(4090) + "; SET ROLE x");
        assertThat(far).hasSize(2).last().isEqualTo("set role x");
        String longTag = "t".repeat(100);
        assertThat(statements("SELECT $" + longTag + "$a$" + longTag.substring(1) + "$b$" + longTag + "$; SET ROLE x"))
                .hasSize(2).last().isEqualTo("set role x");
    }

    @Test
    void keywordsNamesAndLiteralsAreComparedInPlace() {
        StatementScanner s = scanner("SET \"ROLE\" \"role\" Role 'On' pg_temp_3");
        assertThat(s.nextStatement()).isTrue();
        assertThat(s.isKeyword("set")).isTrue();
        s.nextToken();
        assertThat(s.isKeyword("role")).as("quoted is never a keyword").isFalse();
        assertThat(s.isName("role")).isFalse();
        assertThat(s.isNameIgnoringCase("role")).isTrue();
        s.nextToken();
        assertThat(s.isName("role")).isTrue();
        s.nextToken();
        assertThat(s.isKeyword("role") && s.isName("role")).isTrue();
        s.nextToken();
        assertThat(s.stringEqualsIgnoringCase("on")).isTrue();
        assertThat(s.stringContainsIgnoringCase("n")).isTrue();
        s.nextToken();
        assertThat(s.nameStartsWith("pg_temp_")).isTrue();
        assertThat(s.nextToken()).isFalse();
        assertThat(s.nextStatement()).isFalse();
    }

    @Test
    void identifiersAreTruncatedTo63BytesOnACharacterBoundary() {
        assertThat(statements("DROP DATABASE " + "a".repeat(70))).containsExactly("drop database " + "a".repeat(63));
        // 62 ASCII bytes, then a two-byte character across the limit: it goes whole.
        assertThat(statements("SELECT \"" + "b".repeat(62) + "éé\""))
                .containsExactly("select \"" + "b".repeat(62) + "\"");
    }

    @Test
    void onlyTheGivenRangeOfTheBufferIsRead() {
        ByteBuf buf = Unpooled.directBuffer();
        try {
            buf.writeCharSequence("SET ROLE a; SELECT 1; SET ROLE b", StandardCharsets.UTF_8);
            StatementScanner s = new StatementScanner().reset(buf, 12, 20);
            assertThat(collect(s)).containsExactly("select 1");
        } finally {
            buf.release();
        }
    }

    @Test
    void startsWithIgnoringCase() {
        byte[] text = "  BeGin;".getBytes(StandardCharsets.US_ASCII);
        assertThat(StatementScanner.startsWithIgnoringCase(text, 2, "begin")).isTrue();
        assertThat(StatementScanner.startsWithIgnoringCase(text, 2, "begin work")).isFalse();
        assertThat(StatementScanner.startsWithIgnoringCase(text, 0, "begin")).isFalse();
    }

    private static List<String> statements(String sql) {
        return statements(new StatementScanner(), sql, false);
    }

    private static List<String> statements(StatementScanner scanner, String sql, boolean backslashQuotes) {
        ByteBuf buf = Unpooled.wrappedBuffer(sql.getBytes(StandardCharsets.UTF_8));
        return collect(scanner.reset(buf, 0, buf.writerIndex(), backslashQuotes));
    }

    private static StatementScanner scanner(String sql) {
        ByteBuf buf = Unpooled.wrappedBuffer(sql.getBytes(StandardCharsets.UTF_8));
        return new StatementScanner().reset(buf, 0, buf.writerIndex());
    }

    /** Each statement as its tokens, space-separated: literals in '', quoted identifiers in "". */
    private static List<String> collect(StatementScanner s) {
        List<String> statements = new ArrayList<>();
        while (s.nextStatement()) {
            StringBuilder tokens = new StringBuilder();
            do {
                if (!tokens.isEmpty()) {
                    tokens.append(' ');
                }
                String text = s.text();
                tokens.append(switch (s.kind()) {
                    case STRING -> "'" + text + "'";
                    case QUOTED_IDENTIFIER -> "\"" + text + "\"";
                    default -> text;
                });
            } while (s.nextToken());
            statements.add(tokens.toString());
        }
        return statements;
    }
}
