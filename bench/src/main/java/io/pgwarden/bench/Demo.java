package io.pgwarden.bench;

import io.pgwarden.StartupChecks;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * Try pgwarden on a machine with only a JDK: starts an embedded PostgreSQL 17 (binaries from Maven Central),
 * pgwarden in front of it on port 6432 with its admin console and /metrics, prints how to reach all three, and
 * runs until Ctrl-C. {@code --faults [--duration SECONDS]} instead runs {@link FaultDemo} and exits.
 * Kept out of the production jar so that jar carries no PostgreSQL binaries.
 */
public final class Demo {

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        boolean faults = false;
        int seconds = 60;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--faults" -> faults = true;
                case "--duration" -> seconds = Integer.parseInt(value(args, ++i));
                case "--help", "-h" -> {
                    System.out.println(usage());
                    return;
                }
                default -> {
                    System.err.println("unknown option " + args[i] + "\n" + usage());
                    System.exit(2);
                }
            }
        }
        if (faults) {
            // One log line per killed backend would bury the counts; set before the first logger starts logback.
            if (System.getenv("PGWARDEN_LOG_LEVEL") == null) {
                System.setProperty("PGWARDEN_LOG_LEVEL", "ERROR");
            }
            FaultDemo.run(Duration.ofSeconds(seconds), System.out);
            // Netty's and JDBC's threads are gone by now; exit anyway rather than wait on a straggler.
            System.exit(0);
        }
        serve();
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            System.err.println(args[i - 1] + " needs a value\n" + usage());
            System.exit(2);
        }
        return args[i];
    }

    private static String usage() {
        return """
                usage: java -jar bench/target/pgwarden-demo.jar [--faults [--duration SECONDS]]
                  (no option)  pgwarden in front of an embedded PostgreSQL until Ctrl-C
                               (PGWARDEN_DEMO_PORT, PGWARDEN_DEMO_METRICS_PORT, PGWARDEN_DEMO_POOL_MODE)
                  --faults     a write workload directly and through pgwarden while idle sessions are killed
                               and PostgreSQL restarts; prints both error counts (--duration, default 60 s)""";
    }

    private static void serve() throws Exception {
        int proxyPort = Integer.parseInt(System.getenv().getOrDefault("PGWARDEN_DEMO_PORT", "6432"));
        int httpPort = Integer.parseInt(System.getenv().getOrDefault("PGWARDEN_DEMO_METRICS_PORT", "9187"));
        String poolMode = System.getenv().getOrDefault("PGWARDEN_DEMO_POOL_MODE", "transaction");
        DemoPostgres postgres = DemoPostgres.start();
        DemoProxy demo;
        try {
            demo = DemoProxy.start(proxyPort, httpPort, poolMode, postgres.port());
        } catch (Exception e) {
            postgres.close();
            throw e;
        }
        // The same warnings as a real start (a heap left unbounded, above all); the config is in no file.
        new StartupChecks(StartupChecks.Process.current()).run(demo.config, null, demo.proxy.address(), false, null);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            demo.proxy.close();
            postgres.close();
            stopped.countDown();
        }, "demo-shutdown"));

        int port = demo.port();
        String metrics = "http://127.0.0.1:" + demo.httpPort();
        System.out.printf("""

                pgwarden %s is running (%s mode) in front of an embedded PostgreSQL on port %d.
                Generated configuration:
                %s
                Connect through pgwarden:
                  psql "postgresql://%s:%s@127.0.0.1:%d/%s"
                  jdbc:postgresql://127.0.0.1:%d/%s?user=%s&password=%s
                  pgbench -h 127.0.0.1 -p %d -U %s -i %s   (PGPASSWORD=%s)
                See what pgwarden sees, in the admin console (SHOW HELP lists the commands):
                  psql "postgresql://%s:%s@127.0.0.1:%d/%s" -c 'SHOW POOLS' -c 'SHOW CLIENTS'
                and over HTTP:
                  curl %s/metrics
                  curl %s/ready
                Watch it absorb killed backends and PostgreSQL restarts: java -jar bench/target/pgwarden-demo.jar --faults
                Press Ctrl-C to stop.
                %n""", io.pgwarden.admin.ProxyVersion.get(), poolMode, postgres.port(), demo.yaml.indent(2),
                DemoPostgres.USER, DemoPostgres.PASSWORD, port, DemoPostgres.DATABASE,
                port, DemoPostgres.DATABASE, DemoPostgres.USER, DemoPostgres.PASSWORD,
                port, DemoPostgres.USER, DemoPostgres.DATABASE, DemoPostgres.PASSWORD,
                DemoProxy.ADMIN_USER, DemoProxy.ADMIN_PASSWORD, port, DemoProxy.ADMIN_DATABASE, metrics, metrics);
        stopped.await();
    }
}
