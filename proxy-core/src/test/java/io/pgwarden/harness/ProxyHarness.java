package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.pgwarden.backend.CancelForwarder;
import io.pgwarden.backend.LossCounters;
import io.pgwarden.backend.ScriptedBackends;
import io.pgwarden.config.ConfigException;
import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.frontend.ClientHandler;
import io.pgwarden.frontend.Credentials;
import io.pgwarden.frontend.FrontendContext;
import io.pgwarden.frontend.FrontendFrameDecoder;
import io.pgwarden.metrics.EventLog;
import io.pgwarden.metrics.ProxyMetrics;
import io.pgwarden.net.Transport;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.pool.PoolRegistry;
import io.pgwarden.session.CancelRegistry;
import io.pgwarden.session.ClientState;
import io.pgwarden.session.ConfigHolder;
import io.pgwarden.session.PoolClients;
import io.pgwarden.session.ProxyContext;
import io.pgwarden.session.SessionRegistry;
import io.pgwarden.session.StatementNames;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * pgwarden's client sessions, pools and backends wired as {@code ProxyApplication} wires them, with no socket,
 * no PostgreSQL and no clock of their own: clients are {@link ScriptedClient}s, backends are scripted
 * ({@link ScriptedBackends}), and nothing happens between a test's steps. One database {@code appdb} and one user
 * {@code app} (cleartext password {@value #PASSWORD}); the test's YAML configures the database.
 */
public final class ProxyHarness implements AutoCloseable {

    public static final String USER = "app";
    public static final String DATABASE = "appdb";
    public static final String PASSWORD = "secret";

    /**
     * CancelForwarder opens a socket per cancel. An EmbeddedChannel registers itself on a loop of its own when it is
     * made, so the Bootstrap's registration of it fails and the cancel ends, logged as cancel_failed, before any
     * socket exists. Tests see the decision to cancel in pgwarden_timeouts_total.
     */
    private static final Transport NO_SOCKETS = new Transport("embedded", null, null, EmbeddedChannel.class);

    private final TrackingAllocator alloc = new TrackingAllocator();
    private final Later later = new Later();
    /**
     * The pools' background loop. Their maintenance is scheduled here on a frozen clock, so it never runs by itself;
     * a test that wants a round calls {@link BackendPool#maintain()}.
     */
    private final EmbeddedChannel poolLoop = new EmbeddedChannel();
    private final ScriptedBackends backends;
    private final ProxyContext context;
    private final FrontendContext frontend;
    private final AtomicLong clientIds = new AtomicLong();
    private final List<ScriptedClient> clients = new ArrayList<>();

    private ProxyHarness(ProxyConfig config) {
        poolLoop.freezeTime();
        EventLog events = new EventLog(1_000);
        LossCounters losses = new LossCounters();
        backends = new ScriptedBackends(alloc, losses, (pool, detail) -> events.add(pool, "backend_lost", detail),
                later);
        ProxyMetrics metrics = new ProxyMetrics(List::of, losses::snapshot);
        PoolRegistry pools = new PoolRegistry(backends, poolLoop.eventLoop(), events, metrics);
        context = new ProxyContext(new ConfigHolder(config), pools, new CancelRegistry(),
                new CancelForwarder(NO_SOCKETS), new StatementNames(1L << 30, 1L << 30), new SessionRegistry(), events, metrics);
        frontend = new FrontendContext(context, new Credentials(), () -> null, new AtomicInteger(), 1 << 30);
        pools.apply(config);
    }

    /**
     * @param appdb YAML for the database {@code appdb}: pool settings, merged with the defaults as in a real
     *     configuration. The defaults switch off everything that depends on elapsed time between steps (health
     *     checks, the replay Sync after a backend idled 100 ms): a test that wants one sets it here.
     */
    public static ProxyHarness start(String appdb) {
        String yaml = """
                listen:
                  host: 127.0.0.1
                  port: 0
                defaults:
                  server:
                    check_delay: 1h
                    health_check_interval: 1h
                    replay_check_after: 1h
                databases:
                  appdb:
                    # Never dialled: every backend is scripted.
                    host: 127.0.0.1
                    port: 1
                %s
                users:
                  app:
                    password: %s
                    auth: cleartext
                """.formatted(appdb.indent(4).stripTrailing(), PASSWORD);
        try {
            return new ProxyHarness(new ConfigLoader(Map.of()).parse(yaml, "harness config"));
        } catch (ConfigException e) {
            throw new IllegalArgumentException(String.join("; ", e.problems()), e);
        }
    }

    public ProxyContext context() {
        return context;
    }

    public ScriptedBackends backends() {
        return backends;
    }

    /** The pool of appdb/app. */
    public BackendPool pool() {
        ProxyConfig config = context.config();
        return context.pools().poolFor(config.database(DATABASE).orElseThrow(), config.user(USER).orElseThrow());
    }

    /** How many of the pool's clients are in {@code state}. */
    public int clientsIn(ClientState state) {
        later.runAll();
        PoolClients of = context.sessions().clientsOf(pool().key());
        return of.count(state);
    }

    /** A new client connection, before its StartupMessage. */
    public ScriptedClient connect() {
        FrontendFrameDecoder frames = new FrontendFrameDecoder();
        EmbeddedChannel channel = EmbeddedChannel.builder().register(false)
                .handlers(later.closeHandler(), frames, new ClientHandler(frontend, clientIds, frames)).build();
        channel.config().setAllocator(alloc);
        try {
            // Active from here on: ClientHandler makes its session, as for an accepted socket.
            channel.register();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        channel.freezeTime();
        ScriptedClient client = new ScriptedClient(channel, context.sessions().find(clientIds.get()), later);
        clients.add(client);
        return client;
    }

    /**
     * A client logged in to appdb as app. When the login needs a backend (session mode, or the pool has never had
     * one) and the pool dials for it, the dial is accepted. What the client got at login is checked and consumed.
     */
    public ScriptedClient login() {
        return login(Map.of());
    }

    /** As {@link #login()}, with these startup parameters besides user and database. */
    public ScriptedClient login(Map<String, String> parameters) {
        ScriptedClient client = connect();
        Map<String, String> startup = new java.util.LinkedHashMap<>(Map.of("user", USER, "database", DATABASE));
        startup.putAll(parameters);
        client.send(Wire.startup(startup));
        assertThat(client.received()).containsExactly("Authentication(3)");
        client.send(Wire.password(PASSWORD));
        if (client.state() == ClientState.LOGIN_WAITING && backends.dialsPending() > 0) {
            backends.accept();
        }
        List<String> login = client.received();
        assertThat(login).as("login of %s", client).startsWith("Authentication(0)").endsWith("ReadyForQuery(I)");
        assertThat(client.state()).isEqualTo(ClientState.IDLE);
        return client;
    }

    /** The value of one metric series, written as the scrape writes it, e.g. {@code name{label="v"}}. */
    public double metric(String series) {
        for (String line : scrape().split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no series " + series + " in the scrape");
    }

    public String scrape() {
        later.runAll();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, context.metrics().registry().scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Ends every connection, then fails if any buffer of the proxy's was not released. */
    @Override
    public void close() {
        clients.forEach(ScriptedClient::finish);
        later.runAll();
        context.pools().closeAll("harness closed");
        later.runAll();
        backends.finishAll();
        later.runAll();
        poolLoop.finishAndReleaseAll();
        assertThat(alloc.unreleased()).as("buffers never released").isEmpty();
    }
}
