package io.cgscope.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;

/** Ends a response with a body, or for HEAD with the same headers (Content-Length included) and no body. */
final class Responses {
    private Responses() {
    }

    static void send(RoutingContext ctx, String contentType, Buffer body) {
        var response = ctx.response().putHeader("Content-Type", contentType);
        if (ctx.request().method() == HttpMethod.HEAD) {
            response.putHeader("Content-Length", Integer.toString(body.length())).end();
        } else {
            response.end(body);
        }
    }

    static void json(RoutingContext ctx, String body) {
        send(ctx, Json.CONTENT_TYPE, Buffer.buffer(body));
    }
}
