package io.pgwarden.config;

import java.time.Duration;
import java.util.Objects;

/**
 * {@code listen.login_throttle}: once an address has failed {@code failures} logins within one {@code window}, each
 * further login from it waits before pgwarden answers, 100 ms at first (or max_delay, if less), doubling with every
 * further failure, up to {@code maxDelay}.
 *
 * @param failures failed logins an address may have per window before it is slowed; 0 turns throttling off
 */
public record LoginThrottleConfig(int failures, Duration window, Duration maxDelay) {
    /** PostgreSQL's auth_delay has no such count; 10 a minute is far above any person's typing errors. */
    private static final LoginThrottleConfig DEFAULTS =
            new LoginThrottleConfig(10, Duration.ofMinutes(1), Duration.ofSeconds(5));

    public LoginThrottleConfig {
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(maxDelay, "maxDelay");
    }

    public static LoginThrottleConfig defaults() {
        return DEFAULTS;
    }

    public boolean enabled() {
        return failures > 0;
    }
}
