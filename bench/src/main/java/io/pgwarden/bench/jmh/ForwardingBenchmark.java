package io.pgwarden.bench.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.pgwarden.backend.MessageFrameDecoder;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The relay's hot path without sockets: what arrives from PostgreSQL in one read (a result of {@code rows} DataRows,
 * CommandComplete, ReadyForQuery) goes through the real {@link MessageFrameDecoder}; a handler writes each retained
 * slice to the client's channel and flushes once per read, as the proxy does. One operation is one such read, so
 * gc.alloc.rate.norm (with -prof gc) is the bytes allocated per batch.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {EventLoopThreads.EXECUTOR, EventLoopThreads.EXECUTOR_CLASS,
        "-Dio.netty.leakDetection.level=disabled"})
public class ForwardingBenchmark {

    /** 1 is pgbench -S (one row per transaction); 100 is a page of a wider result. */
    @Param({"1", "100"})
    public int rows;

    private ByteBuf batch;
    private EmbeddedChannel server;
    private EmbeddedChannel client;

    @Setup(Level.Trial)
    public void setUp() {
        batch = PooledByteBufAllocator.DEFAULT.directBuffer();
        for (int i = 0; i < rows; i++) {
            Messages.writeDataRow(batch, 4);
        }
        Messages.writeCommandComplete(batch, rows);
        Messages.writeReadyForQuery(batch);
        client = new EmbeddedChannel();
        server = new EmbeddedChannel(new MessageFrameDecoder(1 << 30), new Relay(client));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        server.finishAndReleaseAll();
        client.finishAndReleaseAll();
        batch.release();
    }

    @Benchmark
    public int forwardOneRead() {
        // A retained duplicate stands in for the buffer a socket read would hand the pipeline; the decoder owns it.
        server.pipeline().fireChannelRead(batch.retainedDuplicate());
        server.pipeline().fireChannelReadComplete();
        // Drain what reached the client's channel, as its socket write would, releasing each message.
        int forwarded = 0;
        Object message;
        while ((message = client.readOutbound()) != null) {
            ReferenceCountUtil.release(message);
            forwarded++;
        }
        return forwarded;
    }

    /** Writes every frame to the peer without copying, one flush per read (what the proxy's relay does). */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        private final EmbeddedChannel peer;

        Relay(EmbeddedChannel peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            peer.write(msg, peer.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            peer.flush();
        }
    }
}
