package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgwarden.protocol.Tags;
import io.pgwarden.session.sql.StatementEffects;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Pinning, DROP DATABASE and SessionState read whole frontend messages, every statement in them. */
class StatementReadersTest {

    @Test
    void pinningLooksAtEveryStatementOfAQueryAndAtTheTextOfAParse() {
        assertThat(reason(query("SELECT 1; SET ROLE x"), Tags.Frontend.QUERY)).isEqualTo("SET ROLE");
        assertThat(reason(query("SELECT 'SET ROLE x'"), Tags.Frontend.QUERY)).isNull();
        assertThat(reason(parse("", "CREATE TEMP TABLE t ()"), Tags.Frontend.PARSE))
                .isEqualTo("a temporary table");
        assertThat(reason(parse("SET ROLE x", "SELECT 1"), Tags.Frontend.PARSE)).as("a name").isNull();
    }

    @Test
    void oneScanReportsWhatPinsAndWhatIsDropped() {
        ByteBuf both = query("SET ROLE x; DROP DATABASE IF EXISTS Gone");
        var found = reasonAndDroppedDatabase(both, Tags.Frontend.QUERY, true);
        assertThat(found.pinning()).isEqualTo("SET ROLE");
        assertThat(found.droppedDatabase()).isEqualTo("gone");
        found = reasonAndDroppedDatabase(both, Tags.Frontend.QUERY, false);
        assertThat(found.pinning()).as("an already pinned client").isNull();
        assertThat(found.droppedDatabase()).isEqualTo("gone");
        assertThat(reasonAndDroppedDatabase(query("SELECT 1"), Tags.Frontend.QUERY, true)).isNull();
        assertThat(target(query("drop database \"Gone\""), Tags.Frontend.QUERY)).isEqualTo("Gone");
        assertThat(target(parse("s", "DROP DATABASE x"), Tags.Frontend.PARSE)).isEqualTo("x");
    }

    @Test
    void sessionStateKeepsStatementsOnlyUpToItsShareThenCannotBeRestoredUntilDeallocateAll() {
        String text = "SELECT '" + "x".repeat(400) + "'";
        SessionState state = new SessionState(1000);
        asInSessionMode(state, parse("a", text), Tags.Frontend.PARSE);
        asInSessionMode(state, parse("a", text), Tags.Frontend.PARSE);
        asInSessionMode(state, parse("b", text), Tags.Frontend.PARSE);
        assertThat(state.unrestorableBecause()).as("a re-Parse of the same name replaces, not adds").isNull();
        assertThat(state.statements()).containsOnlyKeys("a", "b");

        asInSessionMode(state, parse("c", text), Tags.Frontend.PARSE);
        assertThat(state.unrestorableBecause()).contains("listen.max_prepared_statement_bytes_per_client");
        assertThat(state.statements()).as("nothing half kept").isEmpty();
        asInSessionMode(state, parse("d", "SELECT 1"), Tags.Frontend.PARSE);
        assertThat(state.statements()).isEmpty();

        state.onDeallocateAll();
        assertThat(state.unrestorableBecause()).isNull();
        asInSessionMode(state, parse("e", "SELECT 1"), Tags.Frontend.PARSE);
        assertThat(state.statements()).containsOnlyKeys("e");
    }

    @Test
    void sessionStateIsUnrestorableOnlyForStatementsThatMakeSuchState() {
        SessionState state = new SessionState(1 << 20);
        asInSessionMode(state, query("SELECT 'temporary', 'listen' /* pg_advisory_lock(1) */"), Tags.Frontend.QUERY);
        asInSessionMode(state, parse("kept", "SELECT $1 -- WITH HOLD"), Tags.Frontend.PARSE);
        asInSessionMode(state, parse("", "SELECT 'lo_open'"), Tags.Frontend.PARSE);
        assertThat(state.unrestorableBecause()).isNull();
        assertThat(state.statements()).containsOnlyKeys("kept");

        asInSessionMode(state, query("SELECT 1; LISTEN ch"), Tags.Frontend.QUERY);
        asInSessionMode(state, query("SELECT pg_advisory_lock(1)"), Tags.Frontend.QUERY);
        assertThat(state.unrestorableBecause()).isEqualTo("the session used LISTEN");
        asInSessionMode(state, close("kept"), Tags.Frontend.CLOSE);
        assertThat(state.statements()).isEmpty();
        state.onDiscardAll();
        assertThat(state.unrestorableBecause()).isNull();
        asInSessionMode(state, parse("", "SELECT pg_try_advisory_lock(1)"), Tags.Frontend.PARSE);
        assertThat(state.unrestorableBecause()).isEqualTo("the session used a session advisory lock");
    }

    /** What the session asks of the one pass over a statement in transaction mode, while not pinned. */
    private static String reason(ByteBuf message, byte tag) {
        StatementEffects.Found found = StatementEffects.of(message, tag, StatementEffects.PINNING);
        return found == null ? null : found.pinning();
    }

    private static StatementEffects.Found reasonAndDroppedDatabase(ByteBuf message, byte tag, boolean pinningWanted) {
        return StatementEffects.of(message, tag,
                StatementEffects.DROPPED_DATABASE | (pinningWanted ? StatementEffects.PINNING : 0));
    }

    private static String target(ByteBuf message, byte tag) {
        StatementEffects.Found found = StatementEffects.of(message, tag, StatementEffects.DROPPED_DATABASE);
        return found == null ? null : found.droppedDatabase();
    }

    /** As a session-mode session relays a message: its statement read once for what SessionState asks, then kept. */
    private static void asInSessionMode(SessionState state, ByteBuf message, byte tag) {
        if (state.unrestorableBecause() == null && (tag == Tags.Frontend.QUERY || tag == Tags.Frontend.PARSE)) {
            StatementEffects.Found found = StatementEffects.of(message, tag, StatementEffects.UNRESTORABLE);
            if (found != null) {
                state.onEffects(found);
            }
        }
        state.onClientMessage(message, tag);
    }

    private static ByteBuf query(String sql) {
        ByteBuf message = Unpooled.buffer().writeByte(Tags.Frontend.QUERY).writeInt(0);
        cString(message, sql);
        return message.setInt(1, message.readableBytes() - 1);
    }

    private static ByteBuf parse(String name, String sql) {
        ByteBuf message = Unpooled.buffer().writeByte(Tags.Frontend.PARSE).writeInt(0);
        cString(message, name);
        cString(message, sql);
        message.writeShort(1).writeInt(23);
        return message.setInt(1, message.readableBytes() - 1);
    }

    private static ByteBuf close(String name) {
        ByteBuf message = Unpooled.buffer().writeByte(Tags.Frontend.CLOSE).writeInt(0).writeByte('S');
        cString(message, name);
        return message.setInt(1, message.readableBytes() - 1);
    }

    private static void cString(ByteBuf out, String s) {
        out.writeCharSequence(s, StandardCharsets.UTF_8);
        out.writeByte(0);
    }
}
