package io.pgwarden.admin;

import io.pgwarden.config.AnyDatabaseConfig;
import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.session.ClientSession;
import io.pgwarden.session.ClientView;
import io.pgwarden.metrics.EventLog;
import io.pgwarden.session.ProxyContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The virtual admin database: SHOW commands with PgBouncer's column names where the concept matches (so
 * existing dashboards keep working) plus what PgBouncer lacks, and the control commands.
 */
public final class AdminConsole {

    private final ProxyContext context;
    private final AdminControl control;
    private final Map<String, Function<String, AdminResult>> commands;
    /** The longest first: SHUTDOWN IMMEDIATE is not SHUTDOWN with an argument. */
    private final List<String> names;

    public AdminConsole(ProxyContext context, AdminControl control) {
        this.context = context;
        this.control = control;
        this.commands = Map.ofEntries(
                Map.entry("SHOW POOLS", a -> PoolsTable.pools(context)),
                Map.entry("SHOW STATS", a -> PoolsTable.stats(context)),
                Map.entry("SHOW CLIENTS", a -> clients(false)),
                Map.entry("SHOW LEAKS", a -> clients(true)),
                Map.entry("SHOW SERVERS", a -> PoolsTable.servers(context)),
                Map.entry("SHOW DATABASES", a -> databases()),
                Map.entry("SHOW CONFIG", a -> ConfigTable.of(context.config(), control.transportInUse())),
                Map.entry("SHOW VERSION", a -> AdminResult.table(List.of("version"),
                        List.of(List.of("pgwarden " + ProxyVersion.get())))),
                Map.entry("SHOW EVENTS", a -> events()),
                Map.entry("SHOW HELP", a -> help()),
                Map.entry("PAUSE", a -> forPools(a, BackendPool::pause, "PAUSE")),
                Map.entry("RESUME", a -> forPools(a, BackendPool::resume, "RESUME")),
                Map.entry("RECONNECT", a -> forPools(a, BackendPool::reconnect, "RECONNECT")),
                Map.entry("RELOAD", a -> reload()),
                Map.entry("KILL_CLIENT", this::killClient),
                Map.entry("SHUTDOWN", a -> {
                    if (!a.isEmpty()) {
                        return AdminResult.error("42601", "SHUTDOWN takes no argument but IMMEDIATE, got \"" + a + "\"");
                    }
                    control.shutdown();
                    return AdminResult.done("SHUTDOWN");
                }),
                Map.entry("SHUTDOWN IMMEDIATE", a -> {
                    control.shutdownImmediately();
                    return AdminResult.done("SHUTDOWN");
                }));
        this.names = commands.keySet().stream().sorted(Comparator.comparingInt(String::length).reversed()).toList();
    }

    /** Runs one statement of the simple query protocol. */
    public AdminResult execute(String sql) {
        String text = sql.trim();
        while (text.endsWith(";")) {
            text = text.substring(0, text.length() - 1).trim();
        }
        if (text.isEmpty()) {
            return AdminResult.done("");
        }
        String upper = text.toUpperCase(Locale.ROOT).replaceAll("\\s+", " ");
        if (upper.startsWith("SET ")) {
            // Drivers set session options on connect; the console has none, and says yes.
            return AdminResult.done("SET");
        }
        for (String name : names) {
            if (upper.equals(name) || upper.startsWith(name + " ")) {
                return commands.get(name).apply(text.substring(name.length()).trim());
            }
        }
        return AdminResult.error("42601", "unknown admin command \"" + text + "\"; SHOW HELP lists the commands");
    }

    private AdminResult clients(boolean leaksOnly) {
        List<ClientView> views = new ArrayList<>();
        for (ClientSession session : context.sessions().all()) {
            ClientView v = session.view();
            if (!leaksOnly || (v.state().startsWith("idle in transaction")
                    && v.stateAgeMillis() >= session.leakAfter().toMillis()
                    && v.transactionAgeMillis() >= 0)) {
                views.add(v);
            }
        }
        views.sort(leaksOnly ? Comparator.comparingLong(ClientView::transactionAgeMillis).reversed()
                : Comparator.comparingLong(ClientView::id));
        List<List<String>> rows = new ArrayList<>();
        for (ClientView v : views) {
            rows.add(leaksOnly
                    ? List.of(str(v.id()), nz(v.user()), nz(v.database()), nz(v.applicationName()), v.address(),
                            seconds(v.transactionAgeMillis()), seconds(v.stateAgeMillis()),
                            nz(v.transactionStartStatement()))
                    : List.of("C", str(v.id()), nz(v.user()), nz(v.database()), v.state(), v.address(),
                            nz(v.applicationName()), seconds(v.connectedMillis()), seconds(v.stateAgeMillis()),
                            seconds(v.transactionAgeMillis()), seconds(v.waitMillis()),
                            seconds(v.lastStatementAgeMillis()), nz(v.lastStatement()),
                            v.backendPid() == 0 ? "" : str(v.backendPid()), nz(v.lastBackendLoss())));
        }
        return leaksOnly
                ? AdminResult.table(List.of("id", "user", "database", "application_name", "addr", "xact_age_s",
                        "idle_s", "xact_start_statement"), rows)
                : AdminResult.table(List.of("type", "id", "user", "database", "state", "addr", "application_name",
                        "connect_age_s", "state_age_s", "xact_age_s", "wait_s", "last_statement_age_s",
                        "last_statement", "link_pid", "last_backend_loss"), rows);
    }

    private AdminResult databases() {
        List<List<String>> rows = new ArrayList<>();
        ProxyConfig config = context.config();
        for (DatabaseConfig db : config.databases().values()) {
            rows.add(databaseRow(db));
        }
        AnyDatabaseConfig any = config.anyDatabase();
        if (any != null) {
            // As PgBouncer lists "*" and the databases it made from it: the entry, then each name with a pool now.
            rows.add(databaseRow(any.template()));
            new java.util.TreeSet<>(context.pools().pools().stream().map(p -> p.key().database())
                    .filter(name -> config.database(name).isEmpty()).toList())
                    .forEach(name -> rows.add(databaseRow(any.forName(name))));
        }
        return AdminResult.table(List.of("name", "host", "port", "database", "pool_size", "min_pool_size",
                "server_lifetime", "pool_mode", "current_connections", "paused", "target", "failover", "host_roles"),
                rows);
    }

    private List<String> databaseRow(DatabaseConfig db) {
        int current = 0;
        boolean paused = false;
        for (BackendPool pool : context.pools().pools()) {
            if (pool.key().database().equals(db.name())) {
                current += pool.size();
                paused |= pool.isPaused();
            }
        }
        return List.of(db.name(), db.host(), str(db.port()), db.dbname(), str(db.pool().maxSize()),
                str(db.pool().minSize()), db.pool().server().lifetime().toSeconds() + "",
                db.pool().poolMode().name().toLowerCase(Locale.ROOT), str(current), paused ? "1" : "0",
                ClusterColumns.target(context, db.name()), ClusterColumns.failover(context, db.name()),
                ClusterColumns.hostRoles(context, db.name()));
    }

    private AdminResult events() {
        List<List<String>> rows = new ArrayList<>();
        for (EventLog.Event e : context.events().recent()) {
            rows.add(List.of(e.time().toString(), e.pool(), e.kind(), e.detail()));
        }
        return AdminResult.table(List.of("time", "pool", "kind", "detail"), rows);
    }

    private AdminResult help() {
        List<List<String>> rows = new ArrayList<>();
        commands.keySet().stream().sorted().forEach(c -> rows.add(List.of(c)));
        return AdminResult.table(List.of("command"), rows);
    }

    private AdminResult forPools(String database, java.util.function.Consumer<BackendPool> action, String tag) {
        String db = database.isEmpty() ? null : database;
        if (db != null && context.config().database(db).isEmpty()) {
            return AdminResult.error("3D000", "database \"" + db + "\" does not exist");
        }
        for (BackendPool pool : context.pools().pools()) {
            if (db == null || pool.key().database().equals(db)) {
                action.accept(pool);
            }
        }
        context.events().add(db == null ? "*" : db, tag.toLowerCase(Locale.ROOT), "by the admin console");
        return AdminResult.done(tag);
    }

    private AdminResult reload() {
        List<String> problems = control.reload();
        if (problems.isEmpty()) {
            return AdminResult.done("RELOAD");
        }
        return AdminResult.error("F0000", "configuration not reloaded; the running configuration stays:\n  - "
                + String.join("\n  - ", problems));
    }

    private AdminResult killClient(String argument) {
        long id;
        try {
            id = Long.parseLong(argument.trim());
        } catch (NumberFormatException e) {
            return AdminResult.error("22023", "KILL_CLIENT needs a client id (see SHOW CLIENTS), got \"" + argument + "\"");
        }
        ClientSession session = context.sessions().find(id);
        if (session == null) {
            return AdminResult.error("42704", "no client with id " + id);
        }
        session.kill("KILL_CLIENT " + id);
        return AdminResult.done("KILL_CLIENT");
    }

    static String str(long value) {
        return Long.toString(value);
    }

    static String seconds(long millis) {
        return millis < 0 ? "" : String.format(Locale.ROOT, "%.3f", millis / 1000.0);
    }

    static String nz(String value) {
        return value == null ? "" : value;
    }
}
