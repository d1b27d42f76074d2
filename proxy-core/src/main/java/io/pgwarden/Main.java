package io.pgwarden;

import io.netty.util.ResourceLeakDetector;
import io.pgwarden.admin.ProxyVersion;
import io.pgwarden.config.ConfigException;
import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.LoadedConfig;
import io.pgwarden.net.FatalErrorGuard;
import io.pgwarden.tls.ListenerTls;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code java -jar pgwarden.jar --config FILE}: validates the config, then serves until stopped. */
@Command(name = "pgwarden", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "PostgreSQL connection proxy: session and transaction pooling.",
        subcommands = ScramVerifierCommand.class)
public final class Main implements Callable<Integer> {

    // Not required=true: picocli would then demand it of the subcommands too.
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "YAML configuration file (see examples/pgwarden.yaml).")
    private Path config;

    @Spec
    private CommandSpec spec;

    @Option(names = "--check", description = "Validate the configuration and exit.")
    private boolean checkOnly;

    public static void main(String[] args) {
        if (System.getProperty("io.netty.jfr.enabled") == null) {
            // Netty registers its buffer events with JFR at the first pooled allocation, the first login's: over
            // 100 classes and JFR's metadata on that path, for events seen only in a recording someone starts
            // (who wants them there says -Dio.netty.jfr.enabled=true).
            System.setProperty("io.netty.jfr.enabled", "false");
        }
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Netty samples buffers for leak reports by default, at a cost on every message; the tests run with
            // paranoid detection, production without unless asked (-Dio.netty.leakDetection.level=simple).
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        System.exit(run(args));
    }

    /**
     * {@code -c FILE} / {@code --config FILE}, the way every deployment starts it, skips picocli: reading its
     * annotations took about a fifth of a second of the time to the first login. Everything else (help,
     * version, --check, subcommands, mistakes) goes through picocli, as do the exit codes it would give.
     */
    static int run(String[] args) {
        Path file = serveArgument(args);
        if (file == null) {
            return new CommandLine(new Main()).execute(args);
        }
        Main main = new Main();
        main.config = file;
        try {
            return main.call();
        } catch (Exception e) {
            // What picocli's execute does with an exception from call().
            e.printStackTrace();
            return 1;
        }
    }

    /** The file of a plain {@code -c FILE} or {@code --config FILE}, or null for anything else. */
    static Path serveArgument(String[] args) {
        if (args.length != 2 || !(args[0].equals("-c") || args[0].equals("--config")) || args[1].isEmpty()
                || args[1].startsWith("-")) {
            return null;
        }
        try {
            return Path.of(args[1]);
        } catch (java.nio.file.InvalidPathException e) {
            return null;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (config == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--config=FILE'");
        }
        LoadedConfig loaded;
        try {
            loaded = new ConfigLoader(System.getenv()).read(config);
        } catch (ConfigException e) {
            System.err.println("pgwarden: " + e.getMessage());
            return 2;
        }
        if (checkOnly) {
            try {
                // The files it names are part of it: a certificate that cannot be used fails the check too.
                ListenerTls.prepare(loaded.config().listen().tls());
            } catch (ConfigException e) {
                System.err.println("pgwarden: " + e.getMessage());
                return 2;
            }
            System.out.println("pgwarden: configuration " + config + " is valid");
            return 0;
        }
        ConfigLoader loader = new ConfigLoader(System.getenv());
        ProxyApplication application;
        try {
            application = ProxyApplication.start(loaded.config(), () -> loader.load(config),
                    FatalErrorGuard.haltingTheJvm());
        } catch (ConfigException e) {
            // A file it names (a TLS certificate or key) cannot be used: as much a configuration error as a typo.
            System.err.println("pgwarden: " + e.getMessage());
            return 2;
        }
        new StartupChecks(StartupChecks.Process.current()).run(loaded, config, application.address(),
                loaded.config().listen().tls().enabled(), application.httpAddress());
        Runtime.getRuntime().addShutdownHook(new Thread(application::close, "pgwarden-shutdown-hook"));
        reloadOnSighup(application);
        drainOnSigterm(application);
        application.awaitStop();
        return 0;
    }

    /** SIGHUP re-reads the file, as operators expect of a daemon; where signals are unavailable, RELOAD still works. */
    private static void reloadOnSighup(ProxyApplication application) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> application.reload());
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            System.err.println("pgwarden: SIGHUP reload unavailable here: " + e.getMessage());
        }
    }

    /**
     * SIGTERM (what Kubernetes and Docker send) drains; a second SIGTERM or SIGINT (Ctrl-C) stops at once. Where
     * signals cannot be handled, the shutdown hook still stops at once.
     */
    private static void drainOnSigterm(ProxyApplication application) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal -> application.stopGracefully());
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> application.stopNow());
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            System.err.println("pgwarden: graceful stop on SIGTERM unavailable here: " + e.getMessage());
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"pgwarden " + ProxyVersion.get()};
        }
    }
}
