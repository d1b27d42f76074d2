package io.pgwarden.admin;

import java.util.List;

/** The process-level actions the console may trigger, implemented by the application. */
public interface AdminControl {

    /** Re-reads the configuration; returns the problems found (empty when the new config is in force). */
    List<String> reload();

    /** Stops pgwarden gracefully, letting clients finish their transactions (after the console has answered). */
    void shutdown();

    /** Stops pgwarden at once (after the console has answered). */
    void shutdownImmediately();

    /** The socket transport in use (listen.transport with auto resolved), for SHOW CONFIG. */
    default String transportInUse() {
        return "";
    }
}
