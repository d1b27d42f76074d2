package io.pgwarden.config;

import java.util.List;
import java.util.Map;

/** Reads {@code listen.login_throttle}. */
final class LoginThrottleBinder {
    static final String KEY = "login_throttle";
    private static final String PATH = "listen.login_throttle";
    private static final List<String> KEYS = List.of("failures", "window", "max_delay");

    private final ConfigReader reader;

    LoginThrottleBinder(ConfigReader reader) {
        this.reader = reader;
    }

    LoginThrottleConfig bind(Object value) {
        Map<String, Object> map = reader.mapping(PATH, value).orElse(Map.of());
        reader.rejectUnknownKeys(PATH, map, KEYS);
        LoginThrottleConfig defaults = LoginThrottleConfig.defaults();
        return new LoginThrottleConfig(
                reader.read(PATH, map, "failures", defaults.failures(),
                        (p, v) -> reader.integer(p, v, 0, Integer.MAX_VALUE)),
                reader.read(PATH, map, "window", defaults.window(), (p, v) -> reader.positiveDuration(p, v,
                        "the window")),
                reader.read(PATH, map, "max_delay", defaults.maxDelay(), (p, v) -> reader.positiveDuration(p, v,
                        "the delay")));
    }
}
