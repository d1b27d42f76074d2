package io.pgwarden.frontend;

import io.pgwarden.config.AnyDatabaseConfig;
import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.config.UserConfig;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.pool.PoolRegistry;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.replication.ReplicationRelay;
import java.util.Optional;

/**
 * What serves the database a client asked for: a named entry (which wins), the physical replication target, or
 * the {@code "*"} entry ({@code any}, null otherwise), whose pool for that name is made on first use.
 */
record DatabaseChoice(DatabaseConfig database, AnyDatabaseConfig any) {

    /** Empty when nothing serves that name. */
    static Optional<DatabaseChoice> of(ProxyConfig config, String name, String replicationMode) {
        Optional<DatabaseConfig> named = config.database(name)
                .or(() -> ReplicationRelay.physicalTarget(config, replicationMode));
        if (named.isPresent()) {
            return Optional.of(new DatabaseChoice(named.get(), null));
        }
        AnyDatabaseConfig any = config.anyDatabase();
        return any == null ? Optional.empty() : Optional.of(new DatabaseChoice(any.forName(name), any));
    }

    static ErrorResponse missing(String name) {
        return ErrorResponse.fatal("3D000", "database \"" + name + "\" does not exist");
    }

    /** Empty when the "*" entry's bound on pools is reached. */
    Optional<BackendPool> pool(PoolRegistry pools, UserConfig user) {
        return any != null ? pools.autoPoolFor(database, user) : Optional.of(pools.poolFor(database, user));
    }

    ErrorResponse noPool() {
        return ErrorResponse.fatal("53400", "pgwarden: no pool for database \"" + database.name() + "\": "
                + "the \"*\" entry has " + any.maxPools() + " pools already (max_auto_pools)")
                .withHint("raise databases.\"*\".max_auto_pools, lower its auto_database_idle_timeout, or name "
                        + "the database under databases");
    }
}
