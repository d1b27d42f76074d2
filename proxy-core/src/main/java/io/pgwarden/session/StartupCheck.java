package io.pgwarden.session;

import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Startup settings PostgreSQL would refuse at login (an unknown name, a value it cannot parse, one that needs a
 * restart) are refused at login: PostgreSQL answers FATAL and the client never logs in, where a pooled login that
 * went ahead would leave the client with settings no backend can take. So before the client hears AuthenticationOk
 * a backend of the pool tries the settings, and its error becomes the client's FATAL. A name and value the pool's
 * server took once are not tried again, so the usual drivers' parameters cost a round trip once per pool.
 */
final class StartupCheck {

    /** PostgreSQL takes any value of these (it only cleans it): trying each application's name would cost. */
    private static final Set<String> ANY_VALUE = Set.of("application_name");

    private final List<Map.Entry<String, String>> pairs;

    private StartupCheck(List<Map.Entry<String, String>> pairs) {
        this.pairs = pairs;
    }

    /**
     * The check the client's startup settings need, or null when the pool vouches for all of them: values every
     * backend reports at login ({@code loginValues}, null before the pool's first login) and values tried before.
     */
    static StartupCheck of(Map<String, String> startupParameters, Map<String, String> loginValues,
                           PoolClients clients) {
        List<Map.Entry<String, String>> unchecked = null;
        for (Map.Entry<String, String> pair : SessionSettings.startupPairs(startupParameters)) {
            String name = SessionSettings.canonicalName(pair.getKey());
            String value = pair.getValue();
            if (ANY_VALUE.contains(name) || clients.acceptedAtStartup(name, value) || loginValues != null
                    && SessionSettings.canonicalValue(name, value).equals(loginValues.get(name))) {
                continue;
            }
            if (unchecked == null) {
                unchecked = new ArrayList<>();
            }
            unchecked.add(pair);
        }
        return unchecked == null ? null : new StartupCheck(unchecked);
    }

    /** The name and value pairs to try, in PostgreSQL's order. */
    List<Map.Entry<String, String>> pairs() {
        return pairs;
    }

    /**
     * Tries the settings on {@code link}'s backend; then {@code accepted} runs, or {@code refused} with the FATAL
     * PostgreSQL would have sent at login.
     */
    void run(BackendLink link, PoolClients clients, Runnable accepted, Consumer<ErrorResponse> refused) {
        ErrorResponse[] error = new ErrorResponse[1];
        link.hidden().query(sql(), message -> {
            byte tag = Frames.tag(message);
            if (tag == Tags.Backend.ERROR_RESPONSE && error[0] == null) {
                ErrorResponse e = ErrorResponse.decode(message);
                error[0] = ErrorResponse.fatal(e.sqlstate(), e.message()).withDetail(e.detail()).withHint(e.hint());
            } else if (tag == Tags.Backend.READY_FOR_QUERY) {
                if (error[0] != null) {
                    refused.accept(error[0]);
                    return;
                }
                pairs.forEach(p -> clients.acceptAtStartup(p.getKey(), p.getValue()));
                accepted.run();
            }
        }, null);
    }

    /**
     * One statement per setting, in PostgreSQL's order so that the first refused is the one PostgreSQL would name;
     * the client's encoding last, since once set it would re-encode the errors after it. {@code set_config(...,
     * true)} lasts only until the end of the implicit transaction the statements share, so the backend is left as
     * it was whatever the outcome. Settings PostgreSQL takes only at connection start cannot be set now whatever
     * their value, and are not tried (pgwarden cannot apply them either).
     */
    private String sql() {
        List<Map.Entry<String, String>> ordered = new ArrayList<>(pairs);
        ordered.sort((a, b) -> Boolean.compare(isEncoding(a), isEncoding(b)));
        StringBuilder sql = new StringBuilder();
        for (Map.Entry<String, String> p : ordered) {
            String name = SessionSettings.quoteLiteral(p.getKey());
            sql.append("SELECT pg_catalog.set_config(").append(name).append(", ")
                    .append(SessionSettings.quoteLiteral(p.getValue())).append(", true) WHERE NOT EXISTS (SELECT"
                            + " FROM pg_catalog.pg_settings WHERE pg_catalog.lower(name) = pg_catalog.lower(")
                    .append(name).append(") AND context IN ('backend', 'superuser-backend')); ");
        }
        return sql.toString().trim();
    }

    private static boolean isEncoding(Map.Entry<String, String> pair) {
        return SessionSettings.canonicalName(pair.getKey()).equals("client_encoding");
    }
}
