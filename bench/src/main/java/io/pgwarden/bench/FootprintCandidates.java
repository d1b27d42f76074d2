package io.pgwarden.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The JVM option sets {@link FootprintBench} compares: the Dockerfile's before issue 19, and smaller heaps,
 * other collectors, the C1 compiler only, smaller stacks and code cache, fewer Netty arenas and class-data
 * sharing, each added on top of the one before so that a row's gain is its last change.
 */
final class FootprintCandidates {

    /**
     * One set of options. {@code env} is added to pgwarden's environment; {@code cds} trains an AppCDS archive in
     * a first, unmeasured start (-XX:ArchiveClassesAtExit) and measures a second one that maps it.
     */
    record Candidate(String name, List<String> jvm, Map<String, String> env, boolean cds, String change) {
    }

    /** What the Dockerfile, the demo and bench/run.sh used before issue 19. */
    static final List<String> OLD = List.of("-Xmx1g", "-XX:MaxDirectMemorySize=512m", "-XX:+UseZGC",
            "-XX:SoftMaxHeapSize=256m");

    /** Netty's pooled allocator: one arena per event loop is plenty for one or two loops, and 1 MiB chunks. */
    static final List<String> NETTY = List.of("-Dio.netty.allocator.numDirectArenas=2",
            "-Dio.netty.allocator.numHeapArenas=0", "-Dio.netty.allocator.maxOrder=7");

    private FootprintCandidates() {
    }

    /** Smaller thread stacks, code cache and a metaspace cap: each saves little, none costs anything measured. */
    static final List<String> SMALL = List.of("-Xss256k", "-XX:ReservedCodeCacheSize=32m", "-XX:MaxMetaspaceSize=64m");

    static List<Candidate> all() {
        List<Candidate> c = new ArrayList<>();
        c.add(of("old-zgc-1g", OLD, "the Dockerfile's options before issue 19"));
        c.add(of("zgc-128m", List.of("-Xmx128m", "-XX:SoftMaxHeapSize=96m", "-XX:MaxDirectMemorySize=64m",
                "-XX:+UseZGC"), "ZGC with a 128 MiB heap"));
        c.add(of("g1-128m", List.of("-Xms16m", "-Xmx128m", "-XX:MaxDirectMemorySize=64m", "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=5"), "G1, 128 MiB heap, 5 ms pause goal"));
        c.add(of("serial-64m", List.of("-Xms16m", "-Xmx64m", "-XX:MaxDirectMemorySize=64m", "-XX:+UseSerialGC"),
                "Serial, 64 MiB heap"));
        List<String> serial96 = List.of("-Xms16m", "-Xmx96m", "-XX:MaxDirectMemorySize=64m", "-XX:+UseSerialGC");
        c.add(of("serial-96m", serial96, "Serial, 96 MiB heap"));
        c.add(of("serial-128m", List.of("-Xms16m", "-Xmx128m", "-XX:MaxDirectMemorySize=64m", "-XX:+UseSerialGC"),
                "Serial, 128 MiB heap"));
        c.add(of("serial-96m-c1", plus(serial96, "-XX:TieredStopAtLevel=1"),
                "serial-96m + C1 only (-XX:TieredStopAtLevel=1)"));
        List<String> small = plus(serial96, SMALL);
        c.add(of("serial-96m-small", small, "serial-96m + -Xss256k, 32 MiB code cache, 64 MiB metaspace cap"));
        List<String> netty = plus(small, NETTY);
        c.add(of("serial-96m-netty", netty, "serial-96m-small + 2 direct arenas, no heap arenas, 1 MiB chunks"));
        c.add(new Candidate("serial-96m-malloc", netty, MALLOC, false, "serial-96m-netty + MALLOC_ARENA_MAX=2"));
        c.add(new Candidate("serial-96m-cds", netty, MALLOC, true, "serial-96m-malloc + an AppCDS archive"));
        c.add(of("g1-96m-netty", plus(swapCollector(netty, "-XX:+UseG1GC"), "-XX:MaxGCPauseMillis=5"),
                "serial-96m-netty with G1 (5 ms goal)"));

        // Shenandoah: concurrent like ZGC, but with compressed references and one mapping of the heap.
        List<String> shen = plus(swapCollector(netty, "-XX:+UseShenandoahGC"));
        c.add(new Candidate("shen-96m", shen, MALLOC, false, "serial-96m-malloc with Shenandoah"));
        c.add(new Candidate("shen-96m-trim", plus(shen, "-XX:TrimNativeHeapInterval=2000"), MALLOC, false,
                "shen-96m + glibc's free memory handed back every 2 s (the C2 compiler's arenas)"));
        List<String> shenC1 = plus(shen, "-XX:TieredStopAtLevel=1");
        c.add(new Candidate("shen-96m-c1", shenC1, MALLOC, false, "shen-96m + C1 only"));
        c.add(new Candidate("shen-96m-c1-compact", plus(shenC1, "-XX:ShenandoahGCHeuristics=compact"), MALLOC,
                false, "shen-96m-c1 + the compact heuristics (collects more often, keeps less)"));
        c.add(new Candidate("shen-96m-c1-cds", shenC1, MALLOC, true, "shen-96m-c1 + an AppCDS archive"));
        c.add(new Candidate("g1-96m-c1", plus(swapCollector(netty, "-XX:+UseG1GC"), "-XX:MaxGCPauseMillis=5",
                "-XX:TieredStopAtLevel=1"), MALLOC, false, "g1-96m-netty + MALLOC_ARENA_MAX=2 + C1 only"));
        c.add(new Candidate("serial-96m-c1-lean", plus(netty, "-XX:TieredStopAtLevel=1"), MALLOC, false,
                "serial-96m-malloc + C1 only"));
        // Without the small gains above (stacks, code cache, Netty arenas, malloc arenas: within the noise).
        List<String> plain = List.of("-Xms16m", "-Xmx96m", "-XX:MaxDirectMemorySize=64m", "-XX:+UseShenandoahGC",
                "-XX:TieredStopAtLevel=1");
        c.add(of("shen-96m-c1-plain", plain, "Shenandoah, 96 MiB heap, C1 only, nothing else"));
        c.add(new Candidate("shen-96m-c1-plain-cds", plain, Map.of(), true, "shen-96m-c1-plain + AppCDS"));
        List<String> c2 = plain.stream().filter(o -> !o.startsWith("-XX:TieredStopAtLevel")).toList();
        c.add(of("shen-96m-c2-plain", c2, "shen-96m-c1-plain with C2 (the JVM's default tiered compilation)"));
        c.add(of("shen-96m-c2-trim", plus(c2, "-XX:TrimNativeHeapInterval=5000"),
                "shen-96m-c2-plain, giving the C compilers' freed native memory back every 5 s"));
        c.add(of("shen-96m-c2-trim-small", plus(c2, "-XX:TrimNativeHeapInterval=5000",
                "-XX:ReservedCodeCacheSize=32m", "-XX:CICompilerCount=2"),
                "shen-96m-c2-trim with a 32 MiB code cache and two compiler threads"));
        // C2's own memory is its code, its profiles and the arenas its compilations malloc: fewer of each.
        c.add(of("shen-96m-c2-compact", plus(c2, "-XX:ShenandoahGCHeuristics=compact"),
                "shen-96m-c2-plain + the compact heuristics"));
        List<String> c2only = plus(c2, "-XX:-TieredCompilation", "-XX:CICompilerCount=1");
        c.add(of("shen-96m-c2only", c2only, "shen-96m-c2-plain without C1's tiers: one C2 thread, no profiled code"));
        c.add(new Candidate("shen-96m-c2only-malloc", plus(c2only, "-XX:TrimNativeHeapInterval=5000"), MALLOC, false,
                "shen-96m-c2only + MALLOC_ARENA_MAX=2 and freed native memory given back every 5 s"));
        c.add(of("shen-96m-c2only-compact", plus(c2only, "-XX:ShenandoahGCHeuristics=compact"),
                "shen-96m-c2only + the compact heuristics"));
        c.add(new Candidate("shen-96m-c2only-cds", c2only, Map.of(), true, "shen-96m-c2only + AppCDS"));
        c.add(new Candidate("shen-96m-c2only-compact-cds", plus(c2only, "-XX:ShenandoahGCHeuristics=compact"),
                Map.of(), true, "shen-96m-c2only-compact + AppCDS"));
        c.add(new Candidate("shen-96m-c2-malloc", plus(c2, "-XX:TrimNativeHeapInterval=5000",
                "-XX:CICompilerCount=2"), MALLOC, false,
                "shen-96m-c2-trim + MALLOC_ARENA_MAX=2 and two compiler threads"));
        List<String> soft = List.of("-Xms16m", "-Xmx128m", "-XX:SoftMaxHeapSize=96m", "-XX:MaxDirectMemorySize=64m",
                "-XX:+UseShenandoahGC", "-XX:TieredStopAtLevel=1");
        c.add(of("shen-128m-soft96-c1", soft, "shen-96m-c1-plain with a 128 MiB cap, collecting to stay under 96 MiB"));
        c.add(new Candidate("shen-128m-soft96-c1-cds", soft, Map.of(), true, "shen-128m-soft96-c1 + AppCDS"));
        return c;
    }

    private static final Map<String, String> MALLOC = Map.of("MALLOC_ARENA_MAX", "2");

    private static List<String> swapCollector(List<String> options, String collector) {
        List<String> l = new ArrayList<>(options.stream().filter(o -> !o.startsWith("-XX:+Use")).toList());
        l.add(collector);
        return l;
    }

    /** The sets named in {@code names} (all when empty), in the order given. */
    static List<Candidate> select(List<String> names) {
        if (names.isEmpty()) {
            return all();
        }
        List<Candidate> chosen = new ArrayList<>();
        for (String n : names) {
            chosen.add(all().stream().filter(c -> c.name().equals(n)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("--footprint-sets: no set " + n + "; there are "
                            + all().stream().map(Candidate::name).toList())));
        }
        return chosen;
    }

    private static Candidate of(String name, List<String> jvm, String change) {
        return new Candidate(name, jvm, Map.of(), false, change);
    }

    private static List<String> plus(List<String> base, String... more) {
        return plus(base, List.of(more));
    }

    private static List<String> plus(List<String> base, List<String> more) {
        List<String> l = new ArrayList<>(base);
        l.addAll(more);
        return l;
    }
}
