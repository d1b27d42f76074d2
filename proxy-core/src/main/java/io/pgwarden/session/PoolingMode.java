package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.config.PoolMode;
import io.pgwarden.config.PoolSettings;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.ResultMessages;
import io.pgwarden.session.sql.StatementEffects;

/**
 * How a client shares backends, fixed at its login (a RELOAD that changes the database's pool_mode applies to
 * clients that log in after it): what is relayed how, which session state is tracked, and what happens to the
 * backend when the client goes quiet and when it leaves.
 */
abstract sealed class PoolingMode permits TransactionPooling, SessionPooling {

    /** What to do with the backend once it is quiet at a ReadyForQuery that said idle. */
    enum AtIdle {
        /** Nothing: the client keeps it. */
        KEEP,
        /** Read the client's settings back first, so they follow it to its next backend. */
        READ_BACK_SETTINGS,
        /**
         * Hand the client's LISTENs over to the pool's notification hub first ({@link TransactionListening}): no
         * other client may receive this one's notifications.
         */
        UNLISTEN,
        /** Give it back to the pool. */
        RELEASE
    }

    /** The client ran SET, RESET or DISCARD: its settings are read back before the backend goes. */
    private boolean settingsChanged;

    static PoolingMode of(PoolSettings settings, StatementNames names) {
        return settings.poolMode() == PoolMode.TRANSACTION
                ? new TransactionPooling(names, settings.maxPreparedStatements())
                : new SessionPooling(names.maxBytesPerClient());
    }

    /**
     * The decision itself: settings first (the read-back needs the backend), then LISTEN, then the backend goes
     * back unless the client keeps it.
     */
    static AtIdle atIdle(boolean keepsBackend, boolean settingsChanged, boolean listening) {
        if (settingsChanged) {
            return AtIdle.READ_BACK_SETTINGS;
        }
        if (keepsBackend) {
            return AtIdle.KEEP;
        }
        return listening ? AtIdle.UNLISTEN : AtIdle.RELEASE;
    }

    /** Decides, and takes note that the chosen tidying is under way. */
    final AtIdle atIdle() {
        AtIdle next = atIdle(keepsBackend(), settingsChanged, listening());
        if (next == AtIdle.READ_BACK_SETTINGS) {
            settingsChanged = false;
        }
        return next;
    }

    /** Whether the client holds its backend between transactions. */
    abstract boolean keepsBackend();

    /** Whether its backend gets the server_reset_query before anyone else does. */
    abstract boolean resetsWithQuery();

    /** Whether a link to a backend idle for a while starts with a Sync that makes lost requests replayable. */
    abstract boolean checksLinkFirst();

    abstract String label();

    /** Relays one client message; ownership passes on. */
    abstract void relay(ByteBuf message, byte tag, BackendLink link);

    /** The {@link StatementEffects} this mode acts on now, looked for in the pass that notes each statement. */
    abstract int effectsWanted();

    /** What one of the client's statements was found to do (only the effects it wanted, and DROP DATABASE). */
    abstract void onEffects(StatementEffects.Found found, BackendLink link, ClientSession who);

    /** Session mode: what rebuilds the session on a new backend; null in transaction mode. */
    SessionState sessionState() {
        return null;
    }

    boolean listening() {
        return false;
    }

    /** At idle with {@link AtIdle#UNLISTEN}: false when the backend may go back to the pool now. */
    boolean tidyListening(ClientSession who, BackendConnection from) {
        return false;
    }

    /** After every ReadyForQuery that leaves the client quiet outside a transaction. */
    void afterIdle(ClientSession who) {
    }

    void onClientWritable() {
    }

    /** The client is gone (its backend has already been given back). */
    void onClose() {
    }

    void onUnlisten() {
    }

    /** Whether the client's ReadyForQuery waits (the mode then owns it): a LISTEN is being handed over. */
    boolean holdsReadyForQuery(ByteBuf readyForQuery) {
        return false;
    }

    void onBackendLost(ClientSession who) {
    }

    void onRollback() {
    }

    abstract void onDiscardAll(BackendLink link);

    abstract void onDeallocateAll(BackendLink link);

    void onListen(BackendLink link) {
    }

    /**
     * Settings a statement changes without a SET or RESET command tag (set_config in a query, SET in a DO
     * block) are read back too, and custom ones by name, since the server lists them nowhere.
     */
    final void onSettingsEffects(StatementEffects.Found found, SettingsSync sync) {
        if (found.settings()) {
            settingsChanged = true;
            if (found.customSettings() != null) {
                sync.noteCustom(found.customSettings());
            }
        }
    }

    /** Notes the commands whose effects outlive a transaction: settings, statements, LISTEN. */
    final void onCommandComplete(ByteBuf commandComplete, BackendLink link) {
        byte first = ResultMessages.commandTagFirstByte(commandComplete);
        if (first != 'S' && first != 'R' && first != 'D' && first != 'L' && first != 'U') {
            return;
        }
        // Only SET, RESET, LISTEN, UNLISTEN, ROLLBACK, DISCARD ALL and DEALLOCATE ALL matter: by length, and at
        // length 8 by the second letter, "SELECT 1" and "UPDATE 1" (every pgbench transaction) are ruled out
        // without decoding their tag.
        int tagLength = commandComplete.readableBytes() - Frames.HEADER_LENGTH - 1;
        if (tagLength == 8) {
            byte second = commandComplete.getByte(commandComplete.readerIndex() + Frames.HEADER_LENGTH + 1);
            if (second != 'N' && second != 'O') {
                return;
            }
        } else if (tagLength != 3 && tagLength != 5 && tagLength != 6 && tagLength != 11 && tagLength != 14) {
            return;
        }
        switch (ResultMessages.commandTag(commandComplete)) {
            case "SET", "RESET" -> settingsChanged = true;
            case "DISCARD ALL" -> {
                settingsChanged = true;
                onDiscardAll(link);
            }
            case "DEALLOCATE ALL" -> onDeallocateAll(link);
            case "LISTEN" -> onListen(link);
            case "UNLISTEN" -> onUnlisten();
            case "ROLLBACK" -> onRollback();
            default -> {
            }
        }
    }
}
