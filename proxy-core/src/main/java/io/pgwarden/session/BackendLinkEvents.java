package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import java.util.List;

/** What the session hears from its {@link BackendLink}, always on the session's loop. */
interface BackendLinkEvents {

    /** At every ReadyForQuery; {@code toClient} when the client itself receives it. */
    void onReadyForQuery(TransactionStatus now, boolean toClient);

    /** After a ReadyForQuery has been routed: the backend may now be quiet. */
    void afterReadyForQuery(BackendConnection from);

    void onCommandComplete(ByteBuf commandComplete);

    /** True when the session keeps the client's last ReadyForQuery for now (and so owns it). */
    boolean holdsReadyForQuery(ByteBuf readyForQuery);

    void onApplicationName(String value);

    void onBackendLost(BackendConnection from, String reason);

    /** Whether a read-only error may be answered by sending the request again: idle, in transaction mode. */
    boolean replaysReadOnlyErrors();

    /** A request {@link ReadOnlyReplay} found never changed anything on {@code from}, to be sent again. */
    void onReadOnlyReplay(BackendConnection from, List<ByteBuf> requests);
}
