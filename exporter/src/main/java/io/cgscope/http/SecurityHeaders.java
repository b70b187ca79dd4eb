package io.cgscope.http;

import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;

/**
 * Headers on every response (the page, the API, errors, 401s): a Content-Security-Policy that
 * allows only this origin's own script, style, images and connections, and no inline script or
 * style, no eval, no framing; {@code nosniff}, so a JSON body holding a cgroup named like HTML is
 * never read as HTML; and no referrer, so the page's links to Grafana do not carry this URL out.
 * They are set as the headers are written, after whatever a handler or the error rendering did.
 */
final class SecurityHeaders {
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
            + " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private SecurityHeaders() {
    }

    static void add(RoutingContext ctx) {
        ctx.addHeadersEndHandler(v -> {
            MultiMap h = ctx.response().headers();
            h.set("Content-Security-Policy", CSP);
            h.set("X-Content-Type-Options", "nosniff");
            h.set("Referrer-Policy", "no-referrer");
        });
        ctx.next();
    }
}
