package io.pgwarden.net;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Ends the process on an OutOfMemoryError (or any VirtualMachineError) reaching a pipeline: a proxy whose event
 * loop died keeps its port and serves no one, while a process that exits is restarted by its orchestrator.
 * Added last to every pipeline; the handlers before it pass such errors on instead of handling them.
 * {@code -XX:+ExitOnOutOfMemoryError} covers the errors thrown where no pipeline sees them.
 */
@ChannelHandler.Sharable
public final class FatalErrorGuard extends ChannelInboundHandlerAdapter {

    /** Ends the process at once; replaceable so tests can see it called without dying. */
    @FunctionalInterface
    public interface Halt {
        void halt(int status);
    }

    /** The exit status, as the JVM's own ExitOnOutOfMemoryError uses. */
    static final int STATUS = 3;

    private final Halt halt;

    public FatalErrorGuard(Halt halt) {
        this.halt = halt;
    }

    /** Halts, not exits: shutdown hooks need memory and threads the failed JVM may not have. */
    public static FatalErrorGuard haltingTheJvm() {
        return new FatalErrorGuard(status -> Runtime.getRuntime().halt(status));
    }

    public static boolean isFatal(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof VirtualMachineError) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (isFatal(cause)) {
            try {
                System.err.println("pgwarden: fatal " + cause + " on " + Thread.currentThread().getName()
                        + "; exiting so that the proxy is restarted");
            } finally {
                halt.halt(STATUS);
            }
            return;
        }
        ctx.fireExceptionCaught(cause);
    }
}
