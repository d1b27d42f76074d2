package io.pgwarden.metrics;

import java.util.Locale;

/**
 * What a client was doing when its backend died and it got an error for it: the {@code during} label of
 * pgwarden_client_errors_from_server_loss_total and the {@code lost_during} field of the log line.
 */
public enum ServerLossMoment {
    /** Between statements of an open transaction. */
    IDLE_IN_TRANSACTION,
    /**
     * The server had answered the Sync sent ahead of the request, so it died while holding the request: no
     * proxy can know whether it ran, so it is not replayed.
     */
    REQUEST_AFTER_CHECK,
    /** No such Sync had been answered: the backend was reused within replay_check_after, or closed without a word. */
    REQUEST_UNCHECKED;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
