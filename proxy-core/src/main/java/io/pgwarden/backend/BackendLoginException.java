package io.pgwarden.backend;

import io.pgwarden.protocol.ErrorResponse;

/** Logging in to PostgreSQL failed; {@link #error()} is what clients waiting for this pool are told. */
public final class BackendLoginException extends Exception {

    private final ErrorResponse error;
    private final boolean permanent;

    public BackendLoginException(ErrorResponse error, boolean permanent) {
        super(error.message());
        this.error = error;
        this.permanent = permanent;
    }

    public ErrorResponse error() {
        return error;
    }

    /** True when retrying cannot help (wrong password, missing database); false for refused or timed-out connects. */
    public boolean permanent() {
        return permanent;
    }
}
