package io.pgwarden;

import io.pgwarden.config.HttpConfig;
import io.pgwarden.config.LoadedConfig;
import io.pgwarden.log.LogValues;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warnings at start about how pgwarden was deployed, each one log line saying what to change: none stops it,
 * because each can be deliberate (a private network, a container's root), but each is worth a look.
 */
public final class StartupChecks {

    private static final Logger log = LoggerFactory.getLogger(StartupChecks.class);

    /** JVM options that bound the heap; without one the JVM takes a quarter of the machine's memory. */
    private static final List<String> HEAP_BOUNDS = List.of("-Xmx", "-XX:MaxHeapSize=", "-XX:MaxRAMPercentage=",
            "-XX:MaxRAM=", "-XX:MaxRAMFraction=");

    /**
     * What the checks read about this process; tests give their own.
     *
     * @param root the effective user is root
     * @param jvmArguments the JVM's options, JAVA_TOOL_OPTIONS included
     * @param javaToolOptions the JAVA_TOOL_OPTIONS variable, or null
     * @param maxHeapBytes the heap the JVM may grow to
     */
    public record Process(boolean root, List<String> jvmArguments, String javaToolOptions, long maxHeapBytes) {
        public Process {
            jvmArguments = List.copyOf(jvmArguments);
        }

        public static Process current() {
            return new Process(runsAsRoot(), jvmOptions(), System.getenv("JAVA_TOOL_OPTIONS"),
                    Runtime.getRuntime().maxMemory());
        }

        /**
         * The command line when it bounds the heap (the usual case), else the JVM's own list, which also has
         * options from argument files and JDK_JAVA_OPTIONS (and is all there is when the JDK cannot read a very long
         * command line): the management beans behind that list load about 50 classes while the first client logs in.
         */
        private static List<String> jvmOptions() {
            List<String> commandLine = ProcessHandle.current().info().arguments().map(List::of).orElse(List.of());
            if (commandLine.stream().anyMatch(StartupChecks::boundsHeap)) {
                return commandLine;
            }
            return ManagementFactory.getRuntimeMXBean().getInputArguments();
        }

        private static boolean runsAsRoot() {
            try {
                // /proc/self belongs to the process's effective user.
                return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                return "root".equals(System.getProperty("user.name"));
            }
        }
    }

    private final Process process;

    public StartupChecks(Process process) {
        this.process = process;
    }

    /**
     * Logs every warning that applies, and returns them.
     *
     * @param file the configuration file read, or null when the configuration did not come from a file
     * @param listen the address clients connect to
     * @param listenTls whether clients can encrypt their connections (listen.tls is not disable)
     * @param http the admin HTTP endpoint's address, or null when it is off
     */
    public List<String> run(LoadedConfig loaded, Path file, InetSocketAddress listen, boolean listenTls,
                            InetSocketAddress http) {
        List<String> warnings = new ArrayList<>();
        if (process.root()) {
            warnings.add("event=running_as_root detail=\"pgwarden needs no privileges (its default port is above"
                    + " 1024); run it as an unprivileged user, as the container image does\"");
        }
        if (file != null) {
            readableSecrets(loaded, file).ifPresent(warnings::add);
        }
        if (!listenTls && !listen.getAddress().isLoopbackAddress()) {
            warnings.add("event=listen_unencrypted addr=" + listen + " detail=\"clients connect without TLS, so"
                    + " their data, and the passwords of cleartext-auth users, cross the network readable; listen"
                    + " on 127.0.0.1, set listen.tls, or keep this network private\"");
        }
        HttpConfig httpConfig = loaded.config().admin().http();
        if (http != null && httpConfig != null && httpConfig.metricsToken() == null
                && !http.getAddress().isLoopbackAddress()) {
            warnings.add("event=http_metrics_open addr=" + http + " detail=\"/metrics is served to anyone who can"
                    + " reach this address (database and user names, traffic); set"
                    + " admin.http.metrics_token, or listen on 127.0.0.1\"");
        }
        if (!heapBounded()) {
            warnings.add("event=heap_unbounded max_heap_mb=" + (process.maxHeapBytes() >> 20)
                    + " detail=\"no -Xmx or -XX:MaxRAMPercentage was given, so the JVM may grow its heap to a quarter"
                    + " of the machine's memory, and a flood of connections can take that much; start java with"
                    + " -Xms16m -Xmx96m -XX:MaxDirectMemorySize=64m -XX:+UseShenandoahGC"
                    + " -XX:ShenandoahGCHeuristics=compact -XX:-TieredCompilation -XX:CICompilerCount=1"
                    + " -XX:+ExitOnOutOfMemoryError, as the container image does\"");
        }
        warnings.forEach(log::warn);
        return warnings;
    }

    private Optional<String> readableSecrets(LoadedConfig loaded, Path file) {
        if (loaded.secretsInFile().isEmpty()) {
            return Optional.empty();
        }
        Set<PosixFilePermission> permissions;
        try {
            PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
            if (view == null) {
                return Optional.empty();
            }
            permissions = view.readAttributes().permissions();
        } catch (IOException e) {
            return Optional.empty();
        }
        boolean group = permissions.contains(PosixFilePermission.GROUP_READ);
        boolean others = permissions.contains(PosixFilePermission.OTHERS_READ);
        if (!group && !others) {
            return Optional.empty();
        }
        // The key paths only: they name users, never a password.
        return Optional.of("event=config_secrets_readable file=" + LogValues.quote(file)
                + " permissions=" + PosixFilePermissions.toString(permissions)
                + " secrets=" + LogValues.quote(String.join(",", loaded.secretsInFile()))
                + " detail=\"the file holds these secrets in plain text and " + (others ? "every user" : "its group")
                + " can read it; chmod 600 it, or write each secret as a ${VARIABLE} set in pgwarden's environment\"");
    }

    private boolean heapBounded() {
        List<String> options = new ArrayList<>(process.jvmArguments());
        if (process.javaToolOptions() != null) {
            options.addAll(List.of(process.javaToolOptions().trim().split("\\s+")));
        }
        return options.stream().anyMatch(StartupChecks::boundsHeap);
    }

    private static boolean boundsHeap(String option) {
        return HEAP_BOUNDS.stream().anyMatch(option::startsWith);
    }
}
