package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.session.sql.StatementEffects;

/** A backend for the whole session; what it creates is tracked so that a lost backend can be replaced. */
final class SessionPooling extends PoolingMode {

    private final SessionState state;

    /** @param maxStatementBytes the most bytes of named Parse bodies kept to restore the session with */
    SessionPooling(long maxStatementBytes) {
        state = new SessionState(maxStatementBytes);
    }

    @Override
    boolean keepsBackend() {
        return true;
    }

    @Override
    boolean resetsWithQuery() {
        return true;
    }

    @Override
    boolean checksLinkFirst() {
        return false;
    }

    @Override
    String label() {
        return "session";
    }

    @Override
    void relay(ByteBuf message, byte tag, BackendLink link) {
        state.onClientMessage(message, tag);
        link.send(message, tag);
    }

    @Override
    int effectsWanted() {
        // Settings are read back so that a replacement backend after a loss gets them.
        return StatementEffects.SETTINGS | (state.unrestorableBecause() == null ? StatementEffects.UNRESTORABLE : 0);
    }

    @Override
    void onEffects(StatementEffects.Found found, BackendLink link, ClientSession who) {
        onSettingsEffects(found, who.settingsSync);
        state.onEffects(found);
    }

    @Override
    SessionState sessionState() {
        return state;
    }

    @Override
    void onDiscardAll(BackendLink link) {
        state.onDiscardAll();
    }

    @Override
    void onDeallocateAll(BackendLink link) {
        state.onDeallocateAll();
    }
}
