package io.pgwarden.it.drivers;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Installs the drivers once per build, under {@code target/} (a Python venv from the machine's local wheelhouse,
 * and node-postgres from the npm registry), and reuses what an earlier run installed. A driver that cannot be
 * installed gets a reason, which its tests skip with and which is printed to the build log.
 */
final class DriverToolchain {

    private static DriverToolchain installed;

    private final Path target;
    private final Map<Driver, String> unavailable = new EnumMap<>(Driver.class);

    private DriverToolchain(Path target) {
        this.target = target;
    }

    /** Installed on first use by any driver test class of this JVM. */
    static synchronized DriverToolchain get() {
        if (installed == null) {
            installed = new DriverToolchain(buildDirectory());
            installed.installPython();
            installed.installNode();
        }
        return installed;
    }

    /** Why {@code driver} cannot run here, if it cannot. */
    Optional<String> unavailable(Driver driver) {
        return Optional.ofNullable(unavailable.get(driver));
    }

    Path programs() {
        return target.resolve("test-classes").resolve("drivers");
    }

    List<String> command(Driver driver, String testCase) {
        String runtime = driver.isNode() ? "node" : python().toString();
        return List.of(runtime, programs().resolve(driver.program).toString(), testCase);
    }

    /**
     * The venv's interpreter, for a program outside the case contract; what it may import is what
     * {@link #unavailable} does not name.
     */
    Path python() {
        return venv().resolve("bin").resolve("python");
    }

    Path nodeModules() {
        return target.resolve("driver-node").resolve("node_modules");
    }

    private Path venv() {
        return target.resolve("driver-venv");
    }

    private void installPython() {
        List<Driver> python = List.of(Driver.PSYCOPG2, Driver.PSYCOPG3, Driver.ASYNCPG, Driver.PG8000);
        Path pythonBin = python();
        if (!Files.isExecutable(pythonBin)) {
            Result venv = run(List.of("python3", "-m", "venv", venv().toString()), 120);
            if (!venv.ok()) {
                python.forEach(d -> skip(d, "cannot create a Python venv (python3 -m venv; Debian needs python3-venv): "
                        + venv.tail()));
                return;
            }
        }
        Optional<Path> wheelhouse = Optional.empty();
        for (Driver driver : python) {
            Path marker = venv().resolve(".installed-" + driver.name());
            if (Files.exists(marker)) {
                continue;
            }
            if (wheelhouse.isEmpty()) {
                wheelhouse = findWheelhouse();
                if (wheelhouse.isEmpty()) {
                    python.stream().filter(d -> !Files.exists(venv().resolve(".installed-" + d.name())))
                            .forEach(d -> skip(d, "no local wheelhouse: no psycopg2_binary*.whl in /opt/pypi/files, "
                                    + "$PGWARDEN_WHEELHOUSE or (searched for 60 s) anywhere under /"));
                    return;
                }
            }
            Result pip = run(List.of(pythonBin.toString(), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "--no-index", "--find-links", wheelhouse.get().toString(), driver.packageSpec), 300);
            if (pip.ok()) {
                touch(marker);
            } else {
                skip(driver, "pip could not install " + driver.packageSpec + " from " + wheelhouse.get() + ": "
                        + pip.tail());
            }
        }
    }

    private static Optional<Path> findWheelhouse() {
        List<Path> candidates = new ArrayList<>();
        Optional.ofNullable(System.getenv("PGWARDEN_WHEELHOUSE")).map(Path::of).ifPresent(candidates::add);
        candidates.add(Path.of("/opt/pypi/files"));
        for (Path candidate : candidates) {
            if (hasPsycopg2Wheel(candidate)) {
                return Optional.of(candidate);
            }
        }
        // The way, bounded: a whole-disk find can take minutes on a large machine.
        Result found = run(List.of("find", "/", "-xdev", "-maxdepth", "7", "-name", "psycopg2_binary*.whl",
                "-not", "-path", "/proc/*"), 60);
        return found.output().lines().filter(l -> l.endsWith(".whl")).findFirst()
                .map(l -> Path.of(l).getParent());
    }

    private static boolean hasPsycopg2Wheel(Path dir) {
        try (var files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().startsWith("psycopg2_binary"));
        } catch (IOException e) {
            return false;
        }
    }

    private void installNode() {
        Result node = run(List.of("node", "--version"), 30);
        if (!node.ok()) {
            skip(Driver.NODE_PG, "node is not installed: " + node.tail());
            return;
        }
        if (Files.exists(nodeModules().resolve("pg").resolve("package.json"))) {
            return;
        }
        Path prefix = target.resolve("driver-node");
        try {
            Files.createDirectories(prefix);
            // Without a package.json of its own, npm would install into whatever project encloses the folder.
            Path manifest = prefix.resolve("package.json");
            if (!Files.exists(manifest)) {
                Files.writeString(manifest, "{\"name\": \"pgwarden-driver-tests\", \"private\": true}\n");
            }
        } catch (IOException e) {
            skip(Driver.NODE_PG, "cannot create " + prefix + ": " + e.getMessage());
            return;
        }
        Result npm = run(List.of("npm", "install", "--no-audit", "--no-fund", "--prefix", prefix.toString(), "pg"),
                300);
        if (!npm.ok() || !Files.exists(nodeModules().resolve("pg").resolve("package.json"))) {
            skip(Driver.NODE_PG, "npm could not install pg (registry unreachable?): " + npm.tail());
        }
    }

    private void skip(Driver driver, String reason) {
        unavailable.put(driver, reason);
        System.out.println("driver compatibility tests: " + driver + " SKIPPED: " + reason);
    }

    private static void touch(Path marker) {
        try {
            Files.writeString(marker, "");
        } catch (IOException e) {
            // only the reuse by the next build is lost
        }
    }

    private static Path buildDirectory() {
        try {
            Path testClasses = Path.of(DriverToolchain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return testClasses.getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }

        String tail() {
            List<String> lines = output.strip().lines().toList();
            return lines.isEmpty() ? "exit code " + exitCode
                    : String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        }
    }

    static Result run(List<String> command, int timeoutSeconds) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            // Read on another thread so a silent, hung process still times out.
            var output = new java.util.concurrent.CompletableFuture<String>();
            Thread reader = new Thread(() -> {
                try {
                    output.complete(new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    output.complete("");
                }
            }, "driver-install-output");
            reader.setDaemon(true);
            reader.start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return new Result(-1, command.get(0) + " timed out after " + timeoutSeconds + " s");
            }
            return new Result(process.exitValue(), output.get(10, TimeUnit.SECONDS));
        } catch (IOException e) {
            return new Result(-1, command.get(0) + " could not be started: " + e.getMessage());
        } catch (Exception e) {
            return new Result(-1, e.toString());
        }
    }
}
