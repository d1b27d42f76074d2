package io.pgwarden.frontend;

import io.pgwarden.admin.AdminConsole;
import io.pgwarden.session.ProxyContext;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * What logins need beyond the sessions' shared context: credentials, the console, the client count, and the log of
 * protocol errors before the StartupMessage.
 */
public record FrontendContext(ProxyContext proxy, Credentials credentials, Supplier<AdminConsole> adminConsole,
                              AtomicInteger clientCount, int maxMessageLength, PreLoginErrorLog preLoginErrors) {

    /** With a pre-login error log of its own, on the system clock. */
    public FrontendContext(ProxyContext proxy, Credentials credentials, Supplier<AdminConsole> adminConsole,
                           AtomicInteger clientCount, int maxMessageLength) {
        this(proxy, credentials, adminConsole, clientCount, maxMessageLength, new PreLoginErrorLog());
    }
}
