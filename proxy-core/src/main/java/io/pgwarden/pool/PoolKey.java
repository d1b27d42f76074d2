package io.pgwarden.pool;

/** Backends are shared only between clients that ask for the same database as the same user. */
public record PoolKey(String database, String user) {
    @Override
    public String toString() {
        return database + "/" + user;
    }
}
