package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgwarden.protocol.BackendMessages;
import io.pgwarden.protocol.ErrorResponse;

/**
 * The last bytes a client gets from pgwarden: its FATAL, and for a client that sat idle (its idle or
 * idle-in-transaction timeout, KILL_CLIENT) a ReadyForQuery after it.
 *
 * <p>An idle libpq client reads the FATAL only as the answer to its next statement, and libpq 14 and later then
 * keeps reading for that statement's ReadyForQuery: the end of the connection comes first, and its "server closed
 * the connection unexpectedly" replaces the FATAL as the statement's result, so psycopg2 raises a bare
 * OperationalError where it should raise IdleInTransactionSessionTimeout (directly against PostgreSQL it does the
 * same). With a ReadyForQuery behind it, the FATAL is the whole answer and keeps its SQLSTATE; a client that reads
 * while idle skips the ReadyForQuery (libpq notes "arrived from server while idle") and sees the close.
 */
final class ClientGoodbye {

    private ClientGoodbye() {
    }

    static ByteBuf lastWords(ByteBufAllocator alloc, ErrorResponse fatal, ClientState state) {
        ByteBuf out = alloc.buffer();
        fatal.encode(out);
        if (state == ClientState.IDLE || state == ClientState.IN_TRANSACTION
                || state == ClientState.FAILED_TRANSACTION) {
            // Whatever transaction there was is rolled back with the session.
            BackendMessages.readyForQuery(out, TransactionStatus.IDLE.wireByte());
        }
        return out;
    }
}
