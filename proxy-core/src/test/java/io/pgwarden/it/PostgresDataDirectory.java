package io.pgwarden.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;

/** The files of one stopped PostgreSQL cluster that {@link ReplicatedPostgres} edits to make copies and standbys. */
final class PostgresDataDirectory {

    /** Files a base backup leaves out: the running server's lock files and zonky's own lock. */
    private static final Set<String> NOT_COPIED = Set.of("postmaster.pid", "postmaster.opts", "epg-lock");
    private static final List<String> STANDBY_SETTINGS =
            List.of("primary_conninfo", "primary_slot_name", "recovery_target_timeline");

    private final Path path;

    PostgresDataDirectory(Path path) {
        this.path = path;
    }

    Path path() {
        return path;
    }

    /** A cold copy of a cleanly stopped cluster, with file modes kept (PostgreSQL refuses a readable directory). */
    void copyTo(Path target) throws IOException {
        try (Stream<Path> files = Files.walk(path)) {
            for (Path source : (Iterable<Path>) files::iterator) {
                Path relative = path.relativize(source);
                if (!NOT_COPIED.contains(relative.toString())) {
                    Files.copy(source, target.resolve(relative.toString()), StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    /** Makes the next start a standby streaming from {@code conninfo} through the slot {@code slot}. */
    void makeStandby(String conninfo, String slot) throws IOException {
        Path auto = path.resolve("postgresql.auto.conf");
        List<String> lines = new ArrayList<>();
        if (Files.exists(auto)) {
            for (String line : Files.readAllLines(auto)) {
                if (STANDBY_SETTINGS.stream().noneMatch(line.trim()::startsWith)) {
                    lines.add(line);
                }
            }
        }
        lines.add("primary_conninfo = '" + conninfo + "'");
        lines.add("primary_slot_name = '" + slot + "'");
        // The default since PostgreSQL 12, spelled out: a demoted primary must follow the promoted one's timeline.
        lines.add("recovery_target_timeline = 'latest'");
        Files.write(auto, lines);
        // Slots it held as a primary would only pin WAL on a standby; pg_basebackup leaves them out too.
        deleteContents(path.resolve("pg_replslot"));
        Files.writeString(path.resolve("standby.signal"), "");
    }

    /** The running postmaster's pid, from the lock file it removes when it exits. */
    OptionalLong postmasterPid() throws IOException {
        Path pidFile = path.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(Long.parseLong(Files.readAllLines(pidFile).get(0).trim()));
    }

    private static void deleteContents(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            return;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(directory)).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
