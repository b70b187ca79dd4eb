package io.cgscope.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * One accepted connection and the phase it is in, seen from two places in its netty pipeline:
 * first of all (before TLS and the HTTP decoder: every byte read and written, the close), and
 * just before Vert.x's own handler ({@link #http}: each decoded request's end, each response's end).
 *
 * <pre>
 * READING --request and response complete--> IDLE --a byte of the next request--> READING
 *    \--request complete--> BUSY --response ended--/
 * </pre>
 * A connection starts READING at accept (a TLS handshake is part of it). A request is complete
 * with its last content: no endpoint takes a body, so a slow body is read against the same
 * timeout as a slow head. Vert.x often answers as soon as the head is decoded, before the
 * decoder has passed on the request's end: then the exchange is over when the request ends.
 * A response in progress (an {@code /events} stream too) keeps the connection BUSY. Bytes that
 * arrive while BUSY (a pipelined request) make it READING again once the response has ended.
 *
 * <p>All of it runs on the connection's event loop; {@link Connections} keeps the queues.
 */
final class Connection extends ChannelDuplexHandler {
    static final String NAME = "cgscope-connection";
    private static final String HTTP_NAME = "cgscope-request-phases";
    /** Vert.x's handler, which {@link #http} must precede (as {@link VersionGuard} does). */
    private static final String VERTX_HANDLER = "handler";

    enum Phase { READING, BUSY, IDLE, CLOSED }

    private final Connections owner;
    ChannelHandlerContext ctx;
    Phase phase = Phase.READING;
    /** When it entered READING or IDLE (System.nanoTime): what the timeouts count from. */
    long since;
    /** Bytes of a next request came while BUSY. */
    private boolean nextRequestStarted;
    /** The response ended while its request had not: the exchange ends with the request. */
    private boolean answeredEarly;
    /** Links in the {@link Connections} queue it is in (none while BUSY). */
    Connection prev;
    Connection next;
    Connections.Queue queue;

    Connection(Connections owner) {
        this.owner = owner;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        owner.opened(this);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        switch (phase) {
            case READING -> owner.heard(this);
            case IDLE -> owner.reading(this);
            case BUSY -> nextRequestStarted = true;
            default -> {
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (phase == Phase.READING) {
            owner.spoke(this); // a TLS handshake under way (or an early error response)
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        owner.gone(this);
        ctx.fireChannelInactive();
    }

    /** Whether bytes of a next request arrived during the last response; clears it. */
    boolean takeNextRequestStarted() {
        boolean started = nextRequestStarted;
        nextRequestStarted = false;
        return started;
    }

    /** Closes the socket at once: from the front of the pipeline, so TLS sends no close_notify first. */
    void closeNow() {
        ctx.close();
    }

    /**
     * For {@code HttpServer.connectionHandler}: puts {@link #http} before Vert.x's handler, once the
     * HTTP pipeline exists (after the TLS handshake). Should a Vert.x upgrade change its pipeline,
     * the connection is left untracked (no timeouts, never evicted) and this returns false.
     */
    static boolean install(HttpConnection connection) {
        if (connection instanceof ConnectionBase base) {
            ChannelPipeline p = base.channel().pipeline();
            if (p.get(NAME) instanceof Connection c) {
                if (p.get(VERTX_HANDLER) == null) {
                    c.owner.untracked(c);
                    return false;
                }
                if (p.get(HTTP_NAME) == null) {
                    p.addBefore(VERTX_HANDLER, HTTP_NAME, c.http);
                }
                return true;
            }
        }
        return false;
    }

    /** The HTTP side: after the decoder, before Vert.x. */
    private final ChannelDuplexHandler http = new ChannelDuplexHandler() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (phase == Phase.READING && (msg instanceof LastHttpContent
                    || msg instanceof HttpRequest r && r.decoderResult().isFailure())) {
                if (answeredEarly) {
                    answeredEarly = false;
                    owner.answered(Connection.this);
                } else {
                    owner.busy(Connection.this);
                }
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof LastHttpContent) { // a whole response (one message from Vert.x) or a stream's end
                if (phase == Phase.BUSY) {
                    owner.answered(Connection.this);
                } else if (phase == Phase.READING) {
                    answeredEarly = true;
                }
            }
            ctx.write(msg, promise);
        }
    };
}
