package io.pgwarden.pool;

/**
 * What the pools must know of the clients the session layer keeps per pool: whether a pool has any (an auto
 * database's pool closes only without them), and that a pool is gone (so its per-pool client state goes too).
 */
public interface PoolUsers {

    boolean hasClients(PoolKey pool);

    void forget(PoolKey pool);
}
