package io.pgwarden.admin;

import io.netty.buffer.ByteBuf;
import io.pgwarden.protocol.BackendMessages;
import io.pgwarden.protocol.ErrorResponse;

/** Writes an admin command's answer as PostgreSQL would: RowDescription, DataRows, CommandComplete, or an error. */
final class AdminResults {

    private AdminResults() {
    }

    static void write(ByteBuf out, AdminResult result) {
        if (result.isError()) {
            ErrorResponse.error(result.errorSqlstate(), result.errorMessage()).encode(out);
            return;
        }
        if (result.columns() != null) {
            BackendMessages.rowDescription(out, result.columns());
            result.rows().forEach(row -> BackendMessages.dataRow(out, row));
            BackendMessages.commandComplete(out, "SHOW");
            return;
        }
        if (result.commandTag().isEmpty()) {
            BackendMessages.emptyQueryResponse(out);
        } else {
            BackendMessages.commandComplete(out, result.commandTag());
        }
    }
}
