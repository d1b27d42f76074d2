package io.pgwarden.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class BackendMessagesTest {

    private static final byte[] SALT = {1, 2, 3, (byte) 0xff};

    @Test
    void authenticationOk() {
        assertEncodes(BackendMessages::authenticationOk, Golden.bytes().tag('R').i32(8).i32(0));
    }

    @Test
    void authenticationCleartextPassword() {
        assertEncodes(BackendMessages::authenticationCleartextPassword, Golden.bytes().tag('R').i32(8).i32(3));
    }

    @Test
    void authenticationMd5Password() {
        assertEncodes(out -> BackendMessages.authenticationMd5Password(out, SALT),
                Golden.bytes().tag('R').i32(12).i32(5).raw(SALT));
        assertThatThrownBy(() -> BackendMessages.authenticationMd5Password(Unpooled.buffer(), new byte[3]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void authenticationSasl() {
        assertEncodes(out -> BackendMessages.authenticationSasl(out, List.of("SCRAM-SHA-256")),
                Golden.bytes().tag('R').i32(23).i32(10).cstr("SCRAM-SHA-256").i8(0));
        assertEncodes(out -> BackendMessages.authenticationSasl(out, List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")),
                Golden.bytes().tag('R').i32(42).i32(10).cstr("SCRAM-SHA-256-PLUS").cstr("SCRAM-SHA-256").i8(0));
    }

    @Test
    void authenticationSaslContinue() {
        assertEncodes(out -> BackendMessages.authenticationSaslContinue(out, "r=abc".getBytes()),
                Golden.bytes().tag('R').i32(13).i32(11).raw("r=abc"));
    }

    @Test
    void authenticationSaslFinal() {
        assertEncodes(out -> BackendMessages.authenticationSaslFinal(out, "v=xyz".getBytes()),
                Golden.bytes().tag('R').i32(13).i32(12).raw("v=xyz"));
    }

    @Test
    void parameterStatusMatchesWhatPostgresqlSends() {
        // Captured from PostgreSQL 15.
        byte[] captured = {'S', 0, 0, 0, 0x19, 'c', 'l', 'i', 'e', 'n', 't', '_', 'e', 'n', 'c', 'o', 'd', 'i', 'n', 'g',
            0, 'U', 'T', 'F', '8', 0};
        assertEncodes(out -> BackendMessages.parameterStatus(out, "client_encoding", "UTF8"), Golden.bytes().raw(captured));
    }

    @Test
    void backendKeyData() {
        assertEncodes(out -> BackendMessages.backendKeyData(out, 1234, -1),
                Golden.bytes().tag('K').i32(12).i32(1234).i32(-1));
    }

    @Test
    void readyForQuery() {
        assertEncodes(out -> BackendMessages.readyForQuery(out, (byte) 'T'), Golden.bytes().tag('Z').i32(5).tag('T'));
        assertThatThrownBy(() -> BackendMessages.readyForQuery(Unpooled.buffer(), (byte) 'X'))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void commandComplete() {
        assertEncodes(out -> BackendMessages.commandComplete(out, "SELECT 1"),
                Golden.bytes().tag('C').i32(13).cstr("SELECT 1"));
    }

    @Test
    void emptyQueryResponse() {
        assertEncodes(BackendMessages::emptyQueryResponse, Golden.bytes().tag('I').i32(4));
    }

    @Test
    void rowDescriptionOfTextColumns() {
        assertEncodes(out -> BackendMessages.rowDescription(out, List.of("name", "value")),
                Golden.bytes().tag('T').i32(53).i16(2)
                        .cstr("name").i32(0).i16(0).i32(25).i16(-1).i32(-1).i16(0)
                        .cstr("value").i32(0).i16(0).i32(25).i16(-1).i32(-1).i16(0));
    }

    @Test
    void dataRowWithNullAndMultibyteValues() {
        assertEncodes(out -> BackendMessages.dataRow(out, Arrays.asList("a", null, "h\u00e9llo")),
                Golden.bytes().tag('D').i32(25).i16(3)
                        .i32(1).raw("a")
                        .i32(-1)
                        .i32(6).raw("h\u00e9llo"));
    }

    @Test
    void negotiateProtocolVersionCarriesTheFullVersionNumberAsPostgresqlDoes() {
        assertEncodes(out -> BackendMessages.negotiateProtocolVersion(out, 0, List.of("_pq_.foo")),
                Golden.bytes().tag('v').i32(21).i32(196608).i32(1).cstr("_pq_.foo"));
        assertEncodes(out -> BackendMessages.negotiateProtocolVersion(out, 2, List.of()),
                Golden.bytes().tag('v').i32(12).i32(3 << 16 | 2).i32(0));
    }

    @Test
    void encodesEveryMessageAfterOthersWithLengthsRelativeToTheMessageStart() {
        ByteBuf out = Unpooled.buffer(16); // small, so it also has to grow mid-message
        out.writeBytes(new byte[] {7, 7, 7});
        BackendMessages.authenticationSasl(out, List.of("SCRAM-SHA-256"));
        BackendMessages.authenticationSaslContinue(out, "r=abc".getBytes());
        BackendMessages.parameterStatus(out, "client_encoding", "UTF8");
        BackendMessages.commandComplete(out, "SELECT 1");
        BackendMessages.rowDescription(out, List.of("name", "value"));
        BackendMessages.dataRow(out, Arrays.asList("a", null, "h\u00e9llo"));
        BackendMessages.negotiateProtocolVersion(out, 0, List.of("_pq_.foo"));
        ErrorResponse.error("42000", "boom").encode(out);
        BackendMessages.readyForQuery(out, (byte) 'I');

        byte[] expected = Golden.bytes().i8(7).i8(7).i8(7)
                .tag('R').i32(23).i32(10).cstr("SCRAM-SHA-256").i8(0)
                .tag('R').i32(13).i32(11).raw("r=abc")
                .tag('S').i32(25).cstr("client_encoding").cstr("UTF8")
                .tag('C').i32(13).cstr("SELECT 1")
                .tag('T').i32(53).i16(2)
                .cstr("name").i32(0).i16(0).i32(25).i16(-1).i32(-1).i16(0)
                .cstr("value").i32(0).i16(0).i32(25).i16(-1).i32(-1).i16(0)
                .tag('D').i32(25).i16(3).i32(1).raw("a").i32(-1).i32(6).raw("h\u00e9llo")
                .tag('v').i32(21).i32(196608).i32(1).cstr("_pq_.foo")
                .tag('E').i32(32).tag('S').cstr("ERROR").tag('V').cstr("ERROR").tag('C').cstr("42000")
                .tag('M').cstr("boom").i8(0)
                .tag('Z').i32(5).tag('I')
                .build();
        assertThat(Golden.readable(out)).isEqualTo(expected);
        out.release();
    }

    @Test
    void refusesStringsWithNulBecauseTheyWouldBreakFraming() {
        ByteBuf out = Unpooled.buffer();
        assertThatThrownBy(() -> BackendMessages.commandComplete(out, "SELECT\u00001"))
                .isInstanceOf(IllegalArgumentException.class);
        out.release();
    }

    /** Encodes at offset zero and again after another message, so lengths written at absolute indexes would show. */
    static void assertEncodes(Consumer<ByteBuf> encoder, Golden expected) {
        byte[] message = expected.build();
        ByteBuf alone = Unpooled.buffer();
        encoder.accept(alone);
        assertThat(Golden.readable(alone)).isEqualTo(message);
        alone.release();

        ByteBuf after = Unpooled.buffer();
        BackendMessages.commandComplete(after, "BEGIN");
        encoder.accept(after);
        assertThat(Golden.readable(after))
                .isEqualTo(Golden.bytes().tag('C').i32(10).cstr("BEGIN").raw(message).build());
        after.release();
    }
}
