package io.pgwarden.session.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TransactionEndTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "COMMIT | COMMIT",
        "commit; | COMMIT",
        "  End Work ;; | COMMIT",
        "/* a /* nested */ comment */ COMMIT TRANSACTION -- done | COMMIT",
        "COMMIT AND CHAIN | COMMIT",
        "commit and no chain; | COMMIT",
        "ROLLBACK | ROLLBACK",
        "abort | ROLLBACK",
        "Rollback Transaction AND CHAIN | ROLLBACK",
        "ROLLBACK TO SAVEPOINT a | NONE",
        "ROLLBACK TO a | NONE",
        "ROLLBACK PREPARED 'x' | NONE",
        "COMMIT PREPARED 'x' | NONE",
        "COMMIT; SELECT 1 | NONE",
        "SELECT 1; COMMIT | NONE",
        "COMMIT AND | NONE",
        "COMMIT WORK WORK | NONE",
        "\"commit\" | NONE",
        "SELECT 'COMMIT' | NONE",
        "-- COMMIT | NONE",
        "BEGIN | NONE",
    })
    void readsWhetherTheTextIsOneStatementThatEndsTheTransaction(String sql, TransactionEnd expected) {
        ByteBuf text = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
        try {
            assertThat(TransactionEnd.ofText(text, 0, text.writerIndex())).isEqualTo(expected);
        } finally {
            text.release();
        }
    }
}
