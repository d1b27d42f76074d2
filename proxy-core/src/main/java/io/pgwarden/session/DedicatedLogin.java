package io.pgwarden.session;

import io.pgwarden.backend.BackendConnection;
import java.util.Map;

/**
 * The end of a replication client's login: it is told what its own backend said at login, gets a cancel key that
 * reaches that backend, and from then on is in {@link ClientState#REPLICATION}, where no pool and no client
 * timeout touch it. Kept apart from {@link SessionLogin}, which is about pools.
 */
public final class DedicatedLogin {

    private DedicatedLogin() {
    }

    /** On the client's loop; {@code backend} is logged in and owned by the caller's relay. */
    public static void complete(ClientSession session, ProxyContext context, BackendConnection backend,
                                Map<String, String> parameters) {
        session.dedicated = backend;
        // The backend's real pid, as in session mode: pg_stat_replication and the client then agree.
        new SessionLogin(session, context).complete(context.cancelRegistry().register(session, backend.processId()),
                parameters);
        session.transition(ClientState.REPLICATION);
    }
}
