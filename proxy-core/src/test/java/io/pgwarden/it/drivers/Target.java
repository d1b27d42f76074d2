package io.pgwarden.it.drivers;

/** Where a driver program connects: PostgreSQL itself, or pgwarden in one of its pool modes. */
enum Target {
    DIRECT("PostgreSQL directly"),
    TRANSACTION("pgwarden, transaction mode"),
    SESSION("pgwarden, session mode");

    final String label;

    Target(String label) {
        this.label = label;
    }

    @Override
    public String toString() {
        return label;
    }
}
