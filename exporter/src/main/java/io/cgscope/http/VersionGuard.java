package io.cgscope.http;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Turns a request line with an HTTP version other than {@code HTTP/1.0} or {@code HTTP/1.1}
 * ({@code HTTP/9.9}, {@code http/1.1}) into a decoder failure, so that it gets the same JSON 400
 * as any malformed request. Netty's decoder accepts any {@code NAME/x.y}, and Vert.x then answers
 * with a bare 501 before any handler of ours runs: a 5xx for bad input.
 *
 * <p>Vert.x has no public hook at that point; this uses its connection's Netty pipeline
 * ({@code io.vertx.core.net.impl}). Should a Vert.x upgrade change that, the guard is skipped and
 * the only effect is the old 501.
 */
@ChannelHandler.Sharable
final class VersionGuard extends ChannelInboundHandlerAdapter {
    static final VersionGuard INSTANCE = new VersionGuard();
    private static final String NAME = "cgscope-version-guard";
    /** Vert.x's own handler, which the guard must precede. */
    private static final String VERTX_HANDLER = "handler";

    /** The failure our invalid-request handler renders. */
    static final class UnsupportedVersion extends RuntimeException {
        UnsupportedVersion(String version) {
            super("unsupported HTTP version \"" + Errors.echo(version) + "\"; this server speaks HTTP/1.1", null,
                    false, false);
        }
    }

    /** For {@code HttpServer.connectionHandler}: called before the connection's first request is read. */
    static void install(HttpConnection connection) {
        if (connection instanceof ConnectionBase base) {
            ChannelPipeline p = base.channel().pipeline();
            if (p.get(VERTX_HANDLER) != null && p.get(NAME) == null) {
                p.addBefore(VERTX_HANDLER, NAME, INSTANCE);
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            HttpVersion v = request.protocolVersion();
            if (v != HttpVersion.HTTP_1_1 && v != HttpVersion.HTTP_1_0) {
                // Vert.x answers in the request's version: keep "HTTP/9.9 400" out of status lines.
                request.setProtocolVersion(HttpVersion.HTTP_1_0);
                if (request.decoderResult().isSuccess()) {
                    request.setDecoderResult(DecoderResult.failure(new UnsupportedVersion(v.text())));
                }
            }
        }
        ctx.fireChannelRead(msg);
    }
}
