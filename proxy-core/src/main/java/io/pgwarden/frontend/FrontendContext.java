package io.pgwarden.frontend;

import io.pgwarden.admin.AdminConsole;
import io.pgwarden.auth.UserLookup;
import io.pgwarden.session.ProxyContext;
import io.pgwarden.tls.ListenerTls;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * What logins need beyond the sessions' shared context: credentials, the console, the client count, the log of
 * protocol errors before the StartupMessage, the TLS clients get, and the lookup of users not under users:.
 */
public record FrontendContext(ProxyContext proxy, Credentials credentials, Supplier<AdminConsole> adminConsole,
                              AtomicInteger clientCount, int maxMessageLength, PreLoginErrorLog preLoginErrors,
                              ListenerTls tls, UserLookup lookups) {

    /** With a user lookup of its own on the context's pools. */
    public FrontendContext(ProxyContext proxy, Credentials credentials, Supplier<AdminConsole> adminConsole,
                           AtomicInteger clientCount, int maxMessageLength, PreLoginErrorLog preLoginErrors,
                           ListenerTls tls) {
        this(proxy, credentials, adminConsole, clientCount, maxMessageLength, preLoginErrors, tls,
                new UserLookup(proxy.pools(), proxy.metrics()));
    }

    /** Without TLS: SSLRequest is answered 'N'. */
    public FrontendContext(ProxyContext proxy, Credentials credentials, Supplier<AdminConsole> adminConsole,
                           AtomicInteger clientCount, int maxMessageLength, PreLoginErrorLog preLoginErrors) {
        this(proxy, credentials, adminConsole, clientCount, maxMessageLength, preLoginErrors, ListenerTls.disabled());
    }

    /** With a pre-login error log of its own, on the system clock. */
    public FrontendContext(ProxyContext proxy, Credentials credentials, Supplier<AdminConsole> adminConsole,
                           AtomicInteger clientCount, int maxMessageLength) {
        this(proxy, credentials, adminConsole, clientCount, maxMessageLength, new PreLoginErrorLog());
    }
}
