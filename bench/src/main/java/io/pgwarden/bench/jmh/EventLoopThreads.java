package io.pgwarden.bench.jmh;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * JMH's benchmark threads as Netty's FastThreadLocalThreads, which is what pgwarden's event loops are: Netty
 * recycles derived buffers (the slices the relay forwards) only on such threads, so on JMH's plain threads every
 * slice would show up as an allocation that the proxy never makes. Selected with
 * {@code -Djmh.executor=CUSTOM -Djmh.executor.class=io.pgwarden.bench.jmh.EventLoopThreads}.
 */
public final class EventLoopThreads extends ThreadPoolExecutor {

    static final String EXECUTOR = "-Djmh.executor=CUSTOM";
    static final String EXECUTOR_CLASS = "-Djmh.executor.class=io.pgwarden.bench.jmh.EventLoopThreads";

    public EventLoopThreads(int maxThreads, String prefix) {
        super(maxThreads, maxThreads, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory(prefix, true));
    }
}
