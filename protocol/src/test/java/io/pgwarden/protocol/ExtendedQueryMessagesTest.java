package io.pgwarden.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ExtendedQueryMessagesTest {

    /** Bind: portal "p1", statement {@code statement}, no parameter formats, {@code parameter} as one text value. */
    private static Golden bind(String statement, String parameter) {
        byte[] value = parameter.getBytes(StandardCharsets.UTF_8);
        int length = 4 + 3 + statement.getBytes(StandardCharsets.UTF_8).length + 1 + 2 + 2 + 4 + value.length + 2;
        return Golden.bytes().tag('B').i32(length).cstr("p1").cstr(statement).i16(0).i16(1).i32(value.length)
                .raw(value).i16(0);
    }

    @Test
    void renamingABindKeepsPortalAndParametersAndFixesTheLength() {
        ByteBuf original = bind("S_1", "42").buf();
        ByteBuf renamed = ExtendedQueryMessages.renameBindStatement(ByteBufAllocator.DEFAULT, original,
                "pgwarden_7".getBytes(StandardCharsets.UTF_8));
        try {
            assertThat(Golden.readable(renamed)).isEqualTo(bind("pgwarden_7", "42").build());
            assertThat(renamed).as("small parameters are copied into one buffer").isNotInstanceOf(CompositeByteBuf.class);
            assertThat(Golden.readable(original)).as("the original is left as it was").isEqualTo(bind("S_1", "42").build());
        } finally {
            renamed.release();
            original.release();
        }
    }

    @Test
    void renamingABindWithLargeParametersKeepsThemUncopied() {
        String big = "x".repeat(ExtendedQueryMessages.MAX_COPIED_BIND_REST + 1);
        ByteBuf original = bind("S_1", big).buf();
        ByteBuf renamed = ExtendedQueryMessages.renameBindStatement(ByteBufAllocator.DEFAULT, original,
                "n".getBytes(StandardCharsets.UTF_8));
        try {
            assertThat(Golden.readable(renamed)).isEqualTo(bind("n", big).build());
            assertThat(renamed).isInstanceOf(CompositeByteBuf.class);
        } finally {
            renamed.release();
            original.release();
        }
    }

    @Test
    void aBindIsMatchedToItsStatementNameExactly() {
        ByteBuf message = bind("S_1", "42").buf();
        try {
            assertThat(ExtendedQueryMessages.bindNamesStatement(message, "S_1".getBytes(StandardCharsets.UTF_8)))
                    .isTrue();
            assertThat(ExtendedQueryMessages.bindNamesStatement(message, "S_".getBytes(StandardCharsets.UTF_8)))
                    .as("a prefix of the name").isFalse();
            assertThat(ExtendedQueryMessages.bindNamesStatement(message, "S_10".getBytes(StandardCharsets.UTF_8)))
                    .as("a longer name").isFalse();
            assertThat(ExtendedQueryMessages.bindNamesStatement(message, "p1".getBytes(StandardCharsets.UTF_8)))
                    .as("the portal's name").isFalse();
            assertThat(ExtendedQueryMessages.bindStatementName(message)).isEqualTo("S_1");
        } finally {
            message.release();
        }
    }
}
