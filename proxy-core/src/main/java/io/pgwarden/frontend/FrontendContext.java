package io.pgwarden.frontend;

import io.pgwarden.admin.AdminConsole;
import io.pgwarden.session.ProxyContext;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/** What logins need beyond the sessions' shared context: credentials, the console, the client count. */
public record FrontendContext(ProxyContext proxy, Credentials credentials, Supplier<AdminConsole> adminConsole,
                              AtomicInteger clientCount, int maxMessageLength) {
}
