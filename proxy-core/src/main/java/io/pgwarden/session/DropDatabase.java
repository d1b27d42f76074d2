package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.session.sql.StatementEffects;

/** Recognises {@code DROP DATABASE [IF EXISTS] name}, to free the way for it. */
final class DropDatabase {

    private DropDatabase() {
    }

    /**
     * The database the first DROP DATABASE in a frontend Query or Parse {@code message} drops, as PostgreSQL
     * folds the name; null when it has none.
     */
    static String target(ByteBuf message, byte tag) {
        StatementEffects.Found found = StatementEffects.of(message, tag, StatementEffects.DROPPED_DATABASE);
        return found == null ? null : found.droppedDatabase();
    }
}
