package io.pgwarden.bench.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.pgwarden.protocol.Frames;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link Frames#readMessage} over a buffer of {@value #MESSAGES} DataRow messages, as the relay sees a result set:
 * slice each message, release the slice. Scores and gc.alloc.rate.norm are per message
 * ({@code @OperationsPerInvocation}), so a non-zero allocation here means the slicing itself allocates.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {EventLoopThreads.EXECUTOR, EventLoopThreads.EXECUTOR_CLASS,
        "-Dio.netty.leakDetection.level=disabled"})
public class FrameDecoderBenchmark {

    static final int MESSAGES = 1_000;

    /** Payload bytes of each DataRow column; pgbench -S returns one int4 column, a wide row is ~100 bytes. */
    @Param({"4", "100"})
    public int columnBytes;

    private ByteBuf stream;

    @Setup(Level.Trial)
    public void setUp() {
        // Pooled direct memory, as Netty hands the proxy what it read from a socket.
        stream = PooledByteBufAllocator.DEFAULT.directBuffer();
        for (int i = 0; i < MESSAGES; i++) {
            Messages.writeDataRow(stream, columnBytes);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        stream.release();
    }

    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public long sliceAndRelease() {
        stream.readerIndex(0);
        long bytes = 0;
        ByteBuf message;
        while ((message = Frames.readMessage(stream, Integer.MAX_VALUE)) != null) {
            bytes += message.readableBytes();
            message.release();
        }
        return bytes;
    }
}
