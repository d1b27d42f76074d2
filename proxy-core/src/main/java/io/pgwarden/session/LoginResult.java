package io.pgwarden.session;

import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.config.UserConfig;
import io.pgwarden.pool.BackendPool;

/** Who an authenticated client is and which pool serves it: the end of its login. */
public record LoginResult(UserConfig user, DatabaseConfig database, BackendPool pool) {
}
