package io.pgwarden.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/** The leak check itself: each test leaks on purpose and takes the report, so the run stays green. */
class NettyLeakCheckTest {

    // Netty (through java.util.logging in this module) would log the deliberate leaks at ERROR: muted, so that a
    // "LEAK:" in a build log is always a real one. Muting also shows that the check does not depend on that log.
    private static final Logger NETTY_LEAK_LOG = Logger.getLogger(ResourceLeakDetector.class.getName());

    @BeforeAll
    static void muteNettyLeakLog() {
        NETTY_LEAK_LOG.setLevel(Level.OFF);
    }

    @AfterAll
    static void unmuteNettyLeakLog() {
        NETTY_LEAK_LOG.setLevel(null);
    }

    @Test
    void aPooledBufferCollectedWithoutReleaseIsReportedWithWhereItWasCreated() {
        leakAPooledBuffer();

        List<String> leaks = List.of();
        for (int attempt = 0; attempt < 5 && leaks.isEmpty(); attempt++) {
            leaks = NettyLeakCheck.collectLeaks();
        }

        assertThat(leaks).singleElement().asString()
                .startsWith("LEAK: ByteBuf.release() was not called")
                .contains("NettyLeakCheckTest.leakAPooledBuffer");
    }

    private static void leakAPooledBuffer() {
        ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        leaked.writeLong(42); // an access record besides the creation
    }

    @Test
    void aClassThatLeaksFailsWithTheLeakRecords() {
        List<TestExecutionResult> failures = new CopyOnWriteArrayList<>();
        LauncherFactory.create().execute(
                LauncherDiscoveryRequestBuilder.request()
                        .selectors(DiscoverySelectors.selectClass(LeakingTests.class))
                        .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                        .configurationParameter(LeakingTests.LAUNCHED_BY_SELF_TEST, "true")
                        .build(),
                new TestExecutionListener() {
                    @Override
                    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
                        if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                            failures.add(result);
                        }
                    }
                });

        // The test method itself passes; its class fails in the extension's afterAll.
        assertThat(failures).singleElement()
                .extracting(r -> r.getThrowable().orElseThrow().getMessage()).asString()
                .startsWith("Netty reported 1 leak(s) by the end of NettyLeakCheckTest$LeakingTests.")
                .contains("LEAK: ByteBuf.release() was not called")
                .contains("LeakingTests.leaksOneBuffer");
    }

    /** Run only by the test above (surefire leaves nested classes out, and this keeps IDEs from running it). */
    @EnabledIf("launchedBySelfTest")
    static class LeakingTests {
        static final String LAUNCHED_BY_SELF_TEST = "pgwarden.leakCheck.selfTest";

        static boolean launchedBySelfTest(ExtensionContext context) {
            return context.getConfigurationParameter(LAUNCHED_BY_SELF_TEST).isPresent();
        }

        @Test
        void leaksOneBuffer() {
            PooledByteBufAllocator.DEFAULT.heapBuffer(16).writeInt(7);
        }
    }
}
