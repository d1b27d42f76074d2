package io.pgwarden.testsupport;

import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Netty's leak detector, which also keeps every leak report so that {@link NettyLeakCheck} can fail the tests.
 * Netty instantiates it for each tracked resource type (ByteBuf, HashedWheelTimer, ...) when the JVM runs with
 * {@code -Dio.netty.customResourceLeakDetector=io.pgwarden.testsupport.RecordingLeakDetector} (root pom.xml).
 */
public class RecordingLeakDetector<T> extends ResourceLeakDetector<T> {

    // Static: Netty creates the instances, the check only knows the class. Reports arrive on any thread that
    // allocates a tracked resource (test threads, event loops).
    private static final Queue<String> REPORTS = new ConcurrentLinkedQueue<>();
    private static volatile boolean installed;

    /** The constructor Netty's DefaultResourceLeakDetectorFactory calls. */
    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
        installed = true;
    }

    /**
     * Unused, but the factory looks this one up too and logs an ERROR when it is missing. maxActive is ignored
     * by Netty 4.x as well.
     */
    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        this(resourceType, samplingInterval);
    }

    /** True once Netty has created a detector of this class, i.e. the system property took effect. */
    static boolean installed() {
        return installed;
    }

    /** The reports since the last call, oldest first. */
    static List<String> drainReports() {
        List<String> reports = new ArrayList<>();
        for (String r; (r = REPORTS.poll()) != null; ) {
            reports.add(r);
        }
        return reports;
    }

    /** Netty skips detection when its logger has ERROR off; failing the tests must not depend on logging. */
    @Override
    protected boolean needReport() {
        return true;
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        super.reportTracedLeak(resourceType, records); // still logged, as before
        REPORTS.add("LEAK: " + resourceType + ".release() was not called before it's garbage-collected." + records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        super.reportUntracedLeak(resourceType);
        REPORTS.add("LEAK: " + resourceType + ".release() was not called before it's garbage-collected"
                + " (no access records: leak detection level is not advanced/paranoid).");
    }
}
