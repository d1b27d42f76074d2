package io.pgwarden.auth;

/**
 * No answer from PostgreSQL to a lookup.
 *
 * @param lastConnectError why the last connect failed, or null
 * @param unreachable PostgreSQL could not be reached (rather than refusing the auth user)
 */
final class LookupFailure extends RuntimeException {

    private final String lastConnectError;
    private final boolean unreachable;

    LookupFailure(String message, String lastConnectError, boolean unreachable) {
        super(message, null, false, false);
        this.lastConnectError = lastConnectError;
        this.unreachable = unreachable;
    }

    String lastConnectError() {
        return lastConnectError;
    }

    boolean unreachable() {
        return unreachable;
    }
}
