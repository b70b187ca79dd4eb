package io.cgscope.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one place that renders errors: every error response is {@code {"error": "..."}} with its
 * status, whether a handler refused the request, the router found no route or method, or the
 * HTTP decoder rejected the request line or headers before any route ran.
 */
final class Errors {
    private static final Logger LOG = Logger.getLogger(Errors.class.getName());
    /** Every route answers GET and HEAD only; a 405 says so. */
    static final String ALLOW = "GET, HEAD";
    /** Statuses the router itself may produce, each rendered as JSON. */
    private static final int[] ROUTER_STATUSES = {400, 401, 403, 404, 405, 406, 413, 414, 415, 431, 500, 501, 503};
    /** How much of a client's input an error message repeats. */
    private static final int ECHO_MAX = 80;

    private Errors() {
    }

    /** A handler's way to refuse a request: caught by the failure handler and rendered as JSON. */
    static final class Refused extends RuntimeException {
        final int status;

        Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    static Refused badRequest(String message) {
        return new Refused(400, message);
    }

    static Refused notFound(String message) {
        return new Refused(404, message);
    }

    /** Sends {@code {"error": message}} with this status, unless a response has already started. */
    static void send(HttpServerResponse response, int status, String message) {
        if (response.headWritten() || response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(status);
        response.putHeader("Content-Type", Json.CONTENT_TYPE);
        if (status == 405) {
            response.putHeader("Allow", ALLOW);
        }
        StringBuilder sb = new StringBuilder(message.length() + 16).append("{\"error\":");
        Json.string(sb, message);
        response.end(Buffer.buffer(sb.append("}\n").toString()));
    }

    /** Installs the JSON rendering for everything the router produces on its own. */
    static void install(Router router) {
        for (int status : ROUTER_STATUSES) {
            // The status is the handler's own: for a route that matched the path but not its
            // parameters, or no route, the context carries no status code.
            router.errorHandler(status, ctx -> render(ctx, status));
        }
    }

    /** A route's failure handler. */
    static void failure(RoutingContext ctx) {
        render(ctx, ctx.statusCode());
    }

    /** Renders a failed route: a {@link Refused} as asked, anything else by its status; 5xx are logged. */
    private static void render(RoutingContext ctx, int statusCode) {
        Throwable failure = ctx.failure();
        if (!ctx.response().headWritten()) {
            ctx.response().headers().clear(); // whatever a failing handler had set
        }
        if (failure instanceof Refused r) {
            send(ctx.response(), r.status, r.getMessage());
            return;
        }
        int status = statusCode;
        if (failure instanceof HttpException h) {
            status = h.getStatusCode();
        }
        if (status < 400) {
            status = 500;
        }
        if (status >= 500) {
            LOG.log(Level.WARNING, "request " + ctx.request().method() + " " + echo(ctx.request().path())
                    + " failed", failure);
        }
        send(ctx.response(), status, message(status, failure));
    }

    private static String message(int status, Throwable failure) {
        return switch (status) {
            case 400 -> failure instanceof HttpException h && h.getPayload() != null
                    ? "bad request: " + h.getPayload() : "bad request";
            case 404 -> "not found; see / for the endpoints";
            case 405 -> "method not allowed; this API answers " + ALLOW;
            case 413 -> "request body too large; this API takes no bodies";
            case 414 -> "request line too long";
            case 431 -> "request headers too large";
            case 500 -> "internal error" + (failure == null ? "" : ": " + failure.getClass().getSimpleName());
            default -> "HTTP " + status;
        };
    }

    /**
     * For requests the HTTP decoder could not parse (request line or headers too long, garbage):
     * the same JSON body, and the connection closes since the request's end is unknown.
     */
    static void invalidRequest(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        int status = 400;
        String message = "malformed HTTP request";
        if (cause instanceof VersionGuard.UnsupportedVersion) {
            message = cause.getMessage();
        } else if (cause instanceof io.netty.handler.codec.TooLongFrameException) {
            if (cause instanceof io.netty.handler.codec.http.TooLongHttpLineException) {
                status = 414;
                message = "request line too long";
            } else if (cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException) {
                status = 431;
                message = "request headers too large";
            } else {
                message = "request too large";
            }
        }
        HttpServerResponse response = request.response();
        response.putHeader("Connection", "close"); // the server closes once the response is written
        send(response, status, message);
    }

    /** Client input repeated in a message: shortened; JSON escaping happens when rendered. */
    static String echo(String input) {
        if (input == null) {
            return "";
        }
        return input.length() <= ECHO_MAX ? input : input.substring(0, ECHO_MAX) + "...";
    }
}
