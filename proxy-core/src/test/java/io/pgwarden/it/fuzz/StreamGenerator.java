package io.pgwarden.it.fuzz;

import io.pgwarden.it.TestPostgres;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Valid frontend conversations, drawn from a seeded random source: who logs in and how, then what the client
 * sends once logged in (simple and extended queries, COPY both ways, transactions, Terminate).
 */
final class StreamGenerator {

    /** One way in: the users and methods of {@link FuzzProxy}'s configuration. */
    record Account(String user, String password) {
    }

    static final Account SCRAM = new Account("app", TestPostgres.APP_PASSWORD);
    static final Account MD5 = new Account("md5user", TestPostgres.MD5_PASSWORD);
    /** Cleartext to the proxy, trust from the proxy to PostgreSQL. */
    static final Account CLEARTEXT = new Account("trustuser", "trust-secret");

    /**
     * @param preamble SSLRequest and/or GSSENCRequest packets sent before the StartupMessage, each answered 'N'
     */
    record Login(List<byte[]> preamble, Account account, String database, byte[] startup) {
    }

    private static final String[] QUERIES = {
        "select 1", "select 1; select 2", "begin", "commit", "rollback", "select pg_backend_pid()",
        "set application_name = 'fuzz'", "set statement_timeout = '5s'", "reset all", "select repeat('x', 9000)",
        "select g, md5(g::text) from generate_series(1, 40) g", "listen fuzz", "notify fuzz, 'hi'", "unlisten *",
        "prepare fp as select 1; execute fp", "deallocate all", "discard all", "select 1/0", "", ";",
        "insert into fuzz_sink values ('q')", "savepoint s1", "release s1", "begin; select 1; commit",
        "select pg_sleep(0.01)", "show transaction_isolation", "select now()", "select $1", "copy fuzz_sink to stdout",
        "set search_path = public", "select 'é€'::text", "begin read only", "abort",
    };

    private static final String[] EXTENDED = {
        "select $1::text", "select 1", "insert into fuzz_sink values ($1)", "select g from generate_series(1, 30) g",
        "begin", "commit", "select $1::int + 1", "set application_name = 'ext'", "select 1/0",
    };

    private StreamGenerator() {
    }

    static Login login(SplittableRandom r) {
        List<byte[]> preamble = new ArrayList<>();
        if (r.nextInt(4) == 0) {
            preamble.add(Wire.request(Wire.SSL_REQUEST_CODE));
        }
        if (r.nextInt(12) == 0) {
            preamble.add(Wire.request(Wire.GSSENC_REQUEST_CODE));
        }
        Account account = switch (r.nextInt(3)) {
            case 0 -> SCRAM;
            case 1 -> MD5;
            default -> CLEARTEXT;
        };
        if (r.nextInt(40) == 0) {
            account = new Account(account.user(), "wrong-" + account.password());
        } else if (r.nextInt(60) == 0) {
            account = new Account("nosuchuser", "x");
        }
        String database = r.nextInt(3) == 0 ? "sessiondb" : r.nextInt(60) == 0 ? "nosuchdb" : "appdb";
        List<String> params = new ArrayList<>(List.of("user", account.user(), "database", database));
        if (r.nextBoolean()) {
            params.addAll(List.of("application_name", "fuzz-" + r.nextInt(100)));
        }
        if (r.nextInt(4) == 0) {
            params.addAll(List.of("client_encoding", r.nextBoolean() ? "UTF8" : "LATIN1"));
        }
        if (r.nextInt(8) == 0) {
            params.addAll(List.of("DateStyle", "ISO, MDY"));
        }
        if (r.nextInt(10) == 0) {
            params.addAll(List.of("options", "-c statement_timeout=5000"));
        }
        if (r.nextInt(20) == 0) {
            params.addAll(List.of("_pq_.fuzz", "1"));
        }
        // 3.2 is what newer clients ask for; pgwarden must negotiate it down like PostgreSQL 17 does.
        int version = r.nextInt(15) == 0 ? (3 << 16) | 2 : 3 << 16;
        return new Login(preamble, account, database, Wire.startup(version, params.toArray(String[]::new)));
    }

    /** What a logged-in client sends: a few units of work, usually ending with Terminate. */
    static List<byte[]> afterLogin(SplittableRandom r) {
        List<byte[]> messages = new ArrayList<>();
        int units = 1 + r.nextInt(6);
        for (int u = 0; u < units; u++) {
            unit(r, messages);
        }
        if (r.nextInt(10) < 7) {
            messages.add(Wire.terminate());
        }
        return messages;
    }

    /** A single valid message, for the mutator that inserts one where it does not belong. */
    static byte[] anyMessage(SplittableRandom r) {
        List<byte[]> messages = new ArrayList<>();
        unit(r, messages);
        return messages.get(r.nextInt(messages.size()));
    }

    private static void unit(SplittableRandom r, List<byte[]> out) {
        switch (r.nextInt(10)) {
            case 0, 1, 2 -> out.add(Wire.query(pick(r, QUERIES)));
            case 3, 4, 5 -> extended(r, out);
            case 6 -> copyIn(r, out);
            case 7 -> out.add(Wire.query("copy (select g, 'row ' || g from generate_series(1, " + (1 + r.nextInt(200))
                    + ") g) to stdout"));
            case 8 -> {
                out.add(Wire.query("begin"));
                extended(r, out);
                out.add(Wire.query(r.nextBoolean() ? "commit" : "rollback"));
            }
            default -> {
                switch (r.nextInt(4)) {
                    case 0 -> out.add(Wire.functionCall(870, "ABC")); // lower(text)
                    case 1 -> out.add(Wire.flush());
                    case 2 -> out.add(Wire.sync());
                    default -> out.add(Wire.query("select " + r.nextInt()));
                }
            }
        }
    }

    private static void extended(SplittableRandom r, List<byte[]> out) {
        String sql = pick(r, EXTENDED);
        String statement = r.nextBoolean() ? "" : "s" + r.nextInt(4);
        String portal = r.nextInt(4) == 0 ? "p" + r.nextInt(2) : "";
        int params = sql.contains("$1") ? 1 : 0;
        out.add(params == 1 && r.nextBoolean() ? Wire.parse(statement, sql, 25) : Wire.parse(statement, sql));
        if (r.nextInt(3) == 0) {
            out.add(Wire.describe('S', statement));
        }
        String[] values = params == 1 ? new String[] {r.nextInt(8) == 0 ? null : String.valueOf(r.nextInt(1000))}
                : new String[0];
        out.add(Wire.bind(portal, statement, values, r.nextInt(5) == 0 ? 1 : 0));
        if (r.nextBoolean()) {
            out.add(Wire.describe('P', portal));
        }
        out.add(Wire.execute(portal, r.nextInt(4) == 0 ? 1 + r.nextInt(5) : 0));
        if (r.nextInt(4) == 0) {
            out.add(Wire.close(r.nextBoolean() ? 'S' : 'P', r.nextBoolean() ? statement : portal));
        }
        out.add(r.nextInt(6) == 0 ? Wire.flush() : Wire.sync());
    }

    private static void copyIn(SplittableRandom r, List<byte[]> out) {
        out.add(Wire.query("copy fuzz_sink from stdin"));
        int rows = r.nextInt(5);
        for (int i = 0; i < rows; i++) {
            byte[] line = ("line " + r.nextInt(1000) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            out.add(Wire.copyData(line));
        }
        out.add(r.nextInt(5) == 0 ? Wire.copyFail("fuzz gave up") : Wire.copyDone());
    }

    private static String pick(SplittableRandom r, String[] options) {
        return options[r.nextInt(options.length)];
    }
}
