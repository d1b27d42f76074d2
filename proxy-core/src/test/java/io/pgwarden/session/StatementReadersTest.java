package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgwarden.protocol.Tags;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** SessionPinning, DropDatabase and SessionState read whole frontend messages, every statement in them. */
class StatementReadersTest {

    @Test
    void pinningLooksAtEveryStatementOfAQueryAndAtTheTextOfAParse() {
        assertThat(SessionPinning.reason(query("SELECT 1; SET ROLE x"), Tags.Frontend.QUERY)).isEqualTo("SET ROLE");
        assertThat(SessionPinning.reason(query("SELECT 'SET ROLE x'"), Tags.Frontend.QUERY)).isNull();
        assertThat(SessionPinning.reason(parse("", "CREATE TEMP TABLE t ()"), Tags.Frontend.PARSE))
                .isEqualTo("a temporary table");
        assertThat(SessionPinning.reason(parse("SET ROLE x", "SELECT 1"), Tags.Frontend.PARSE)).as("a name").isNull();
    }

    @Test
    void oneScanReportsWhatPinsAndWhatIsDropped() {
        ByteBuf both = query("SET ROLE x; DROP DATABASE IF EXISTS Gone");
        var found = SessionPinning.reasonAndDroppedDatabase(both, Tags.Frontend.QUERY, true);
        assertThat(found.pinning()).isEqualTo("SET ROLE");
        assertThat(found.droppedDatabase()).isEqualTo("gone");
        found = SessionPinning.reasonAndDroppedDatabase(both, Tags.Frontend.QUERY, false);
        assertThat(found.pinning()).as("an already pinned client").isNull();
        assertThat(found.droppedDatabase()).isEqualTo("gone");
        assertThat(SessionPinning.reasonAndDroppedDatabase(query("SELECT 1"), Tags.Frontend.QUERY, true)).isNull();
        assertThat(DropDatabase.target(query("drop database \"Gone\""), Tags.Frontend.QUERY)).isEqualTo("Gone");
        assertThat(DropDatabase.target(parse("s", "DROP DATABASE x"), Tags.Frontend.PARSE)).isEqualTo("x");
    }

    @Test
    void sessionStateIsUnrestorableOnlyForStatementsThatMakeSuchState() {
        SessionState state = new SessionState();
        state.onClientMessage(query("SELECT 'temporary', 'listen' /* pg_advisory_lock(1) */"), Tags.Frontend.QUERY);
        state.onClientMessage(parse("kept", "SELECT $1 -- WITH HOLD"), Tags.Frontend.PARSE);
        state.onClientMessage(parse("", "SELECT 'lo_open'"), Tags.Frontend.PARSE);
        assertThat(state.unrestorableBecause()).isNull();
        assertThat(state.statements()).containsOnlyKeys("kept");

        state.onClientMessage(query("SELECT 1; LISTEN ch"), Tags.Frontend.QUERY);
        state.onClientMessage(query("SELECT pg_advisory_lock(1)"), Tags.Frontend.QUERY);
        assertThat(state.unrestorableBecause()).isEqualTo("the session used LISTEN");
        state.onClientMessage(close("kept"), Tags.Frontend.CLOSE);
        assertThat(state.statements()).isEmpty();
        state.onDiscardAll();
        assertThat(state.unrestorableBecause()).isNull();
        state.onClientMessage(parse("", "SELECT pg_try_advisory_lock(1)"), Tags.Frontend.PARSE);
        assertThat(state.unrestorableBecause()).isEqualTo("the session used a session advisory lock");
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
