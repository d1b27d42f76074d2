package io.pgwarden.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.protocol.ErrorResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WaitQueueTest {

    private final EventLoop loopA = new DefaultEventLoop();
    private final EventLoop loopB = new DefaultEventLoop();
    private final WaitQueue queue = new WaitQueue();

    @AfterEach
    void stopLoops() {
        loopA.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
        loopB.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
    }

    private record Waiter(String name, EventLoop eventLoop, long waitingSinceNanos) implements PoolWaiter {
        @Override
        public void onBackendAcquired(BackendConnection backend) {
        }

        @Override
        public void onAcquireFailed(ErrorResponse error) {
        }
    }

    private Waiter join(String name, EventLoop loop, long since) {
        Waiter waiter = new Waiter(name, loop, since);
        queue.add(waiter);
        return waiter;
    }

    @Test
    void aBackendGoesToAWaiterOnItsOwnLoopAFewPlacesBackButTheHeadIsPassedOverAtMostFourTimesInARow() {
        join("head", loopA, 0);
        for (int i = 1; i <= 6; i++) {
            join("b" + i, loopB, i);
        }
        List<String> served = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            served.add(((Waiter) queue.takeWaiterFor(loopB)).name());
        }
        assertThat(served).containsExactly("b1", "b2", "b3", "b4", "head");
        assertThat(((Waiter) queue.takeWaiterFor(loopB)).name()).isEqualTo("b5");
    }

    @Test
    void onlyTheFirstSixteenPlacesAreSearchedForTheBackendsLoop() {
        for (int i = 0; i < 16; i++) {
            join("a" + i, loopA, i);
        }
        join("b16", loopB, 16);
        assertThat(((Waiter) queue.takeWaiterFor(loopB)).name()).isEqualTo("a0");
        // Now b16 is the sixteenth in line (place 15): within reach.
        assertThat(((Waiter) queue.takeWaiterFor(loopB)).name()).isEqualTo("b16");
    }

    @Test
    void theLongestWaitIsTheHeadsWhoeverLeavesTheLine() {
        assertThat(queue.longestWaitNanos(1_000)).isZero();
        Waiter first = join("first", loopA, 100);
        join("second", loopB, 300);
        join("third", loopA, 400);
        assertThat(queue.longestWaitNanos(1_000)).isEqualTo(900);
        queue.takeWaiterFor(loopB);
        assertThat(queue.longestWaitNanos(1_000)).as("served out of order: the head still waits").isEqualTo(900);
        queue.remove(first);
        assertThat(queue.longestWaitNanos(1_000)).isEqualTo(600);
        assertThat(queue.longestWaitNanos(50)).as("never negative").isZero();
    }

    @Test
    void fromSkipsThoseAlreadyCovered() {
        join("w0", loopA, 0);
        join("w1", loopB, 1);
        join("w2", loopA, 2);
        var rest = queue.from(2);
        assertThat(((Waiter) rest.next()).name()).isEqualTo("w2");
        assertThat(rest.hasNext()).isFalse();
        assertThat(queue.from(3).hasNext()).isFalse();
        assertThat(queue.from(7).hasNext()).isFalse();
    }
}
