package io.pgwarden.metrics;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Answers each decoded request through {@link MonitoringRoutes}, keeping the connection open when the client asks. */
@ChannelHandler.Sharable
final class MonitoringHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LoggerFactory.getLogger(MonitoringHandler.class);

    private final MonitoringRoutes routes;

    MonitoringHandler(MonitoringRoutes routes) {
        this.routes = routes;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        HttpDeadline deadline = ctx.pipeline().get(HttpDeadline.class);
        deadline.requestComplete();
        DecoderResult decoded = request.decoderResult();
        if (decoded.isFailure()) {
            // The decoder cannot tell where the next request would start: answer and close.
            int status = decoded.cause() instanceof TooLongHttpLineException ? 414
                    : decoded.cause() instanceof TooLongHttpHeaderException ? 431 : 400;
            send(ctx, deadline, new MonitoringRoutes.Answer(status, MonitoringRoutes.TEXT,
                    "bad request\n".getBytes(java.nio.charset.StandardCharsets.UTF_8), Map.of()), false);
            return;
        }
        MonitoringRoutes.Answer answer;
        try {
            answer = routes.answer(request.method().name(), request.uri(),
                    request.headers().get(HttpHeaderNames.AUTHORIZATION));
        } catch (RuntimeException e) {
            // A failing supplier must not leave the client hanging; nothing was sent yet, so 500 fits.
            log.warn("HTTP endpoint {} failed", request.uri(), e);
            answer = MonitoringRoutes.Answer.of(500, MonitoringRoutes.TEXT, "internal error\n");
        }
        send(ctx, deadline, answer, HttpUtil.isKeepAlive(request));
    }

    private static void send(ChannelHandlerContext ctx, HttpDeadline deadline, MonitoringRoutes.Answer answer,
                             boolean keepAlive) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(answer.status()), Unpooled.wrappedBuffer(answer.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, answer.contentType())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, answer.body().length);
        answer.headers().forEach(response.headers()::set);
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
            if (keepAlive && f.isSuccess()) {
                deadline.responseSent();
            } else {
                f.channel().close();
            }
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP connection {} failed", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
