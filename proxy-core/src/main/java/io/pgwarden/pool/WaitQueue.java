package io.pgwarden.pool;

import io.netty.channel.EventLoop;
import io.pgwarden.backend.BackendConnection;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * The clients waiting for a backend of one pool, oldest first. Guarded by the pool's lock.
 * Waiters join at the back and may leave from anywhere, so the head is always the one that has waited longest.
 */
final class WaitQueue {

    /** How far down the line {@link #takeWaiterFor} looks for a waiter on the backend's loop. */
    private static final int SAME_LOOP_SCAN = 16;
    private static final int MAX_HEAD_SKIPS = 4;

    private final ArrayDeque<PoolWaiter> waiters = new ArrayDeque<>();
    private int headSkips;

    boolean isEmpty() {
        return waiters.isEmpty();
    }

    int size() {
        return waiters.size();
    }

    void add(PoolWaiter waiter) {
        waiters.addLast(waiter);
    }

    boolean remove(PoolWaiter waiter) {
        return waiters.remove(waiter);
    }

    PoolWaiter pollFirst() {
        return waiters.pollFirst();
    }

    /**
     * What hands {@code backend} to {@code waiter} once the pool's lock is let go: one object per hand-off (under a
     * full pool, one per transaction) that is also the task sent to the waiter's loop when it runs elsewhere.
     */
    static Runnable handOff(PoolWaiter waiter, BackendConnection backend) {
        return new HandOff(waiter, backend);
    }

    private static final class HandOff implements Runnable {
        private final PoolWaiter waiter;
        private final BackendConnection backend;

        HandOff(PoolWaiter waiter, BackendConnection backend) {
            this.waiter = waiter;
            this.backend = backend;
        }

        @Override
        public void run() {
            EventLoop loop = waiter.eventLoop();
            if (loop.inEventLoop()) {
                waiter.onBackendAcquired(backend);
            } else {
                loop.execute(this);
            }
        }
    }

    /** Runs a waiter callback on its loop: directly when already there, saving a task and a wakeup. */
    static void onLoopOf(PoolWaiter waiter, Runnable callback) {
        if (waiter.eventLoop().inEventLoop()) {
            callback.run();
        } else {
            waiter.eventLoop().execute(callback);
        }
    }

    /**
     * The waiter a free backend goes to: the first in line, unless one a few places behind it runs on the
     * backend's own event loop. A client and backend on different loops pay a task hand-off and a thread wake-up
     * for every message both ways, which under a full pool was most of the proxy's cost. The head is passed over
     * at most {@link #MAX_HEAD_SKIPS} times in a row, so nobody waits much longer than strict FIFO would make it.
     */
    PoolWaiter takeWaiterFor(EventLoop loop) {
        PoolWaiter head = waiters.peekFirst();
        if (head.eventLoop() != loop && headSkips < MAX_HEAD_SKIPS) {
            Iterator<PoolWaiter> inLine = waiters.iterator();
            inLine.next();
            for (int place = 1; place < SAME_LOOP_SCAN && inLine.hasNext(); place++) {
                PoolWaiter candidate = inLine.next();
                if (candidate.eventLoop() == loop) {
                    inLine.remove();
                    headSkips++;
                    return candidate;
                }
            }
        }
        headSkips = 0;
        return waiters.pollFirst();
    }

    /**
     * 0 when nobody waits. Read off the head: a client queued again because its backend died before use keeps its
     * first start, and can have waited a little longer than the head, which is rare enough not to walk the queue.
     */
    long longestWaitNanos(long nowNanos) {
        PoolWaiter oldest = waiters.peekFirst();
        return oldest == null ? 0 : Math.max(0, nowNanos - oldest.waitingSinceNanos());
    }

    /** Everyone, oldest first, leaving the queue empty. */
    List<PoolWaiter> drain() {
        List<PoolWaiter> all = new ArrayList<>(waiters);
        waiters.clear();
        return all;
    }

    /**
     * The waiters from place {@code first} on (the head is place 0), oldest first. Without an iterator to allocate
     * when there are none, which is what a release finds almost every time.
     */
    Iterator<PoolWaiter> from(int first) {
        if (first >= waiters.size()) {
            return Collections.emptyIterator();
        }
        Iterator<PoolWaiter> inLine = waiters.iterator();
        for (int place = 0; place < first && inLine.hasNext(); place++) {
            inLine.next();
        }
        return inLine;
    }
}
