package io.pgwarden.testsupport;

import io.netty.buffer.ByteBufAllocator;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty has reported a leak by the time it ends, and the run itself when a leak surfaces
 * only after the last class. Registered for every test class of a module through JUnit's extension
 * autodetection (META-INF/services here, {@code -Djunit.jupiter.extensions.autodetection.enabled=true} in the
 * root pom's argLine).
 *
 * <p>Netty reports a buffer only once the buffer was garbage-collected without release() AND a later tracked
 * allocation polls the detector's reference queue, so the check forces both before reading the reports. A
 * buffer still reachable when a class ends (e.g. held by a closing channel) is reported at a later check: the
 * class a report fails is where it was found, the access records in the message say where it was leaked.
 */
public final class NettyLeakCheck implements BeforeAllCallback, AfterAllCallback {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(NettyLeakCheck.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        // Once per run, before the first class's tests: JUnit closes root-store values in reverse order, so this
        // check comes after anything tests put there (shared servers shut down at the end, say).
        context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(EndOfRunCheck.class);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        failOnLeaks("by the end of " + context.getDisplayName());
    }

    /**
     * JUnit closes the values in the root store after the last test class has finished; an exception here fails
     * the engine's container, which surefire reports as a failed test "JUnit Jupiter", so the build fails.
     */
    static final class EndOfRunCheck implements AutoCloseable {
        @Override
        public void close() {
            failOnLeaks("at the end of the test run (after the last class's own check)");
        }
    }

    private static void failOnLeaks(String when) {
        List<String> leaks = collectLeaks();
        if (!leaks.isEmpty()) {
            throw new AssertionError("Netty reported " + leaks.size() + " leak(s) " + when + ". Netty reports a"
                    + " buffer only once it is garbage-collected, so it may have been leaked by an earlier class in"
                    + " this JVM; the records show where it was created and last touched.\n\n"
                    + String.join("\n\n", leaks));
        }
    }

    /**
     * Makes Netty report what has leaked so far and returns (and forgets) those reports. Public for long tests
     * (the fuzzer) that check as they go, to tell when a leak began.
     */
    public static List<String> collectLeaks() {
        for (int round = 0; round < 2; round++) {
            awaitGc();
            // Netty polls its queue of collected-but-unreleased buffers when it tracks a new one (every
            // allocation at the paranoid level).
            ByteBufAllocator.DEFAULT.buffer(1).release();
        }
        if (!RecordingLeakDetector.installed()) {
            throw new IllegalStateException("Netty's leak detector is not " + RecordingLeakDetector.class.getName()
                    + ", so leaks would go unnoticed: run the tests with -Dio.netty.customResourceLeakDetector="
                    + RecordingLeakDetector.class.getName() + " (root pom.xml, surefire argLine)");
        }
        return RecordingLeakDetector.drainReports();
    }

    private static void awaitGc() {
        ReferenceQueue<Object> queue = new ReferenceQueue<>();
        WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
        System.gc();
        try {
            // The sentinel on its queue shows that the collection ran and the JVM is enqueueing the references it
            // cleared (Netty's trackers among them); the sleep lets it finish the batch the sentinel was in.
            queue.remove(2_000);
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Reference.reachabilityFence(sentinel);
    }
}
