package io.pgwarden.protocol;

import static io.pgwarden.protocol.BackendMessagesTest.assertEncodes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class ErrorResponseTest {

    @Test
    void encodesAllFieldsWithTheNonLocalizedSeverityToo() {
        ErrorResponse error = ErrorResponse.fatal("28P01", "boom").withDetail("d").withHint("h");
        assertEncodes(error::encode, Golden.bytes().tag('E').i32(38)
                .tag('S').cstr("FATAL").tag('V').cstr("FATAL").tag('C').cstr("28P01").tag('M').cstr("boom")
                .tag('D').cstr("d").tag('H').cstr("h").i8(0));
    }

    @Test
    void omitsNullDetailAndHint() {
        assertEncodes(ErrorResponse.error("42000", "boom")::encode, Golden.bytes().tag('E').i32(32)
                .tag('S').cstr("ERROR").tag('V').cstr("ERROR").tag('C').cstr("42000").tag('M').cstr("boom").i8(0));
    }

    @Test
    void encodesAsNoticeWithTheSameFields() {
        ErrorResponse notice = new ErrorResponse("WARNING", "01000", "careful", null, "h");
        assertEncodes(notice::encodeAsNotice, Golden.bytes().tag('N').i32(42)
                .tag('S').cstr("WARNING").tag('V').cstr("WARNING").tag('C').cstr("01000").tag('M').cstr("careful")
                .tag('H').cstr("h").i8(0));
    }

    @Test
    void roundTrips() {
        ErrorResponse original = ErrorResponse.error("22012", "division by zero").withDetail("d\u00e9tail").withHint("h");
        ByteBuf out = Unpooled.buffer();
        original.encode(out);
        assertThat(ErrorResponse.decode(out)).isEqualTo(original);
        out.clear();
        original.encodeAsNotice(out);
        assertThat(ErrorResponse.decode(out)).isEqualTo(original);
        out.release();
    }

    @Test
    void decodesARealServerErrorIgnoringPositionFileLineAndRoutine() {
        // Captured from PostgreSQL 15 for "select * from nosuchtable".
        ByteBuf message = Golden.bytes().tag('E').i32(110)
                .tag('S').cstr("ERROR").tag('V').cstr("ERROR").tag('C').cstr("42P01")
                .tag('M').cstr("relation \"nosuchtable\" does not exist").tag('P').cstr("15")
                .tag('F').cstr("parse_relation.c").tag('L').cstr("1392").tag('R').cstr("parserOpenTable").i8(0)
                .buf();
        assertThat(ErrorResponse.decode(message)).isEqualTo(
                new ErrorResponse("ERROR", "42P01", "relation \"nosuchtable\" does not exist", null, null));
        assertThat(message.readerIndex()).isZero();
        message.release();
    }

    @Test
    void prefersTheNonLocalizedSeverity() {
        ByteBuf message = Golden.bytes().tag('E').i32(23)
                .tag('S').cstr("FEHLER").tag('V').cstr("ERROR").tag('M').cstr("x").i8(0).buf();
        ErrorResponse decoded = ErrorResponse.decode(message);
        assertThat(decoded.severity()).isEqualTo("ERROR");
        assertThat(decoded.sqlstate()).isNull();
        message.release();
    }

    @Test
    void rejectsTruncatedAndForeignMessages() {
        for (Golden golden : new Golden[] {
            Golden.bytes().tag('E').i32(12).tag('S').cstr("ERROR"), // no final terminator
            Golden.bytes().tag('E').i32(11).tag('S').raw("ERROR"), // unterminated value
            Golden.bytes().tag('E').i32(40).tag('S').cstr("ERROR").i8(0), // shorter than declared
            Golden.bytes().tag('C').i32(5).i8(0)}) {
            ByteBuf message = golden.buf();
            assertThatThrownBy(() -> ErrorResponse.decode(message)).isInstanceOf(ProtocolException.class);
            message.release();
        }
    }
}
