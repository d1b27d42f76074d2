package io.pgwarden.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class FrontendMessageCheckTest {

    private static String problem(int... bytes) {
        byte[] raw = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            raw[i] = (byte) bytes[i];
        }
        ByteBuf message = Unpooled.wrappedBuffer(raw);
        try {
            ErrorResponse error = FrontendMessageCheck.problem(message);
            assertThat(message.readerIndex()).isZero();
            if (error == null) {
                return null;
            }
            assertThat(error.sqlstate()).isEqualTo("08P01");
            assertThat(error.severity()).isEqualTo("FATAL");
            return error.message();
        } finally {
            message.release();
        }
    }

    private static String problem(Golden message) {
        ByteBuf buf = message.buf();
        try {
            ErrorResponse error = FrontendMessageCheck.problem(buf);
            return error == null ? null : error.message();
        } finally {
            buf.release();
        }
    }

    @Test
    void typesPostgresDoesNotTakeAfterLoginAreNamedAsPostgresNamesThem() {
        assertThat(problem(0x7a, 0, 0, 0, 4)).isEqualTo("invalid frontend message type 122");
        assertThat(problem(0x01, 0, 0, 0, 4)).isEqualTo("invalid frontend message type 1");
        assertThat(problem('p', 0, 0, 0, 5, 0)).as("a password outside authentication")
                .isEqualTo("invalid frontend message type 112");
        assertThat(problem(0xff, 0, 0, 0, 4)).isEqualTo("invalid frontend message type 255");
    }

    @Test
    void everyTypePostgresMainTakesPasses() {
        for (char tag : new char[] {'Q', 'E', 'S', 'H', 'X', 'F', 'd', 'c', 'f'}) {
            assertThat(problem(tag, 0, 0, 0, 4)).as("%s", tag).isNull();
        }
        assertThat(problem(Golden.bytes().tag('P').i32(4 + 1 + 9 + 2).cstr("").cstr("select 1").i16(0))).isNull();
        assertThat(problem(Golden.bytes().tag('P').i32(4 + 3 + 9 + 2 + 4).cstr("s1").cstr("select 1").i16(1).i32(23)))
                .isNull();
        assertThat(problem(Golden.bytes().tag('B').i32(4 + 1 + 3 + 2 + 2 + 4 + 2 + 4 + 2 + 2).cstr("").cstr("s1")
                .i16(0).i16(2).i32(2).raw(new byte[] {'4', '2'}).i32(-1).i16(1).i16(1))).isNull();
        assertThat(problem(Golden.bytes().tag('D').i32(4 + 1 + 3).raw(new byte[] {'S'}).cstr("s1"))).isNull();
        assertThat(problem(Golden.bytes().tag('C').i32(4 + 1 + 1).raw(new byte[] {'P'}).cstr(""))).isNull();
    }

    @Test
    void truncatedParseBindDescribeAndCloseGetPostgresText() {
        assertThat(problem('P', 0, 0, 0, 4)).isEqualTo("invalid string in message");
        assertThat(problem('B', 0, 0, 0, 4)).isEqualTo("invalid string in message");
        assertThat(problem('D', 0, 0, 0, 4)).isEqualTo("no data left in message");
        assertThat(problem('C', 0, 0, 0, 4)).isEqualTo("no data left in message");
        assertThat(problem(0x44, 0, 0, 0, 8, 0x53, 0x61, 0x62, 0x63)).as("Describe with an unterminated name")
                .isEqualTo("invalid string in message");
        assertThat(problem(Golden.bytes().tag('P').i32(4 + 3 + 9).cstr("s1").cstr("select 1")))
                .as("no parameter count").isEqualTo("insufficient data left in message");
        assertThat(problem(Golden.bytes().tag('P').i32(4 + 3 + 9 + 2).cstr("s1").cstr("select 1").i16(3)))
                .as("three parameter types announced, none sent").isEqualTo("insufficient data left in message");
        assertThat(problem(Golden.bytes().tag('B').i32(4 + 1 + 1 + 2 + 2 + 4 + 2).cstr("").cstr("").i16(0).i16(1)
                .i32(1000).i16(0))).as("a parameter length past the end").isEqualTo("insufficient data left in message");
        assertThat(problem(Golden.bytes().tag('B').i32(4 + 1 + 1 + 2 + 2 + 4).cstr("").cstr("").i16(0).i16(1)
                .i32(-2))).as("a negative parameter length").isEqualTo("insufficient data left in message");
        assertThat(problem(Golden.bytes().tag('D').i32(4 + 1 + 1 + 1).raw(new byte[] {'S'}).cstr("").raw(new byte[] {7})))
                .as("bytes after the last field").isEqualTo("invalid message format");
    }
}
