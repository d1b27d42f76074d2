package io.pgwarden;

import io.pgwarden.config.ConfigException;
import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.ProxyConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code java -jar pgwarden.jar --config FILE}: validates the config, then serves until stopped. */
@Command(name = "pgwarden", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "PostgreSQL connection proxy: session and transaction pooling.")
public final class Main implements Callable<Integer> {

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
            description = "YAML configuration file (see examples/pgwarden.yaml).")
    private Path config;

    @Option(names = "--check", description = "Validate the configuration and exit.")
    private boolean checkOnly;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        ProxyConfig proxyConfig;
        try {
            proxyConfig = new ConfigLoader(System.getenv()).load(config);
        } catch (ConfigException e) {
            System.err.println("pgwarden: " + e.getMessage());
            return 2;
        }
        if (checkOnly) {
            System.out.println("pgwarden: configuration " + config + " is valid");
            return 0;
        }
        ProxyApplication application = ProxyApplication.start(proxyConfig);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            application.close();
            stopped.countDown();
        }, "pgwarden-shutdown"));
        stopped.await();
        return 0;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"pgwarden " + ProxyVersion.get()};
        }
    }
}
