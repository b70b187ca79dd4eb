package io.cgscope.http;

import io.cgscope.config.WebConfig;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * HTTP basic auth for {@code basic_auth_users} of {@code --web.config.file}: every route needs
 * valid credentials, else 401 with {@code WWW-Authenticate: Basic realm="cgscope"} and the JSON
 * error. The one exception is {@code GET /healthz} without an {@code Authorization} header:
 * it passes, marked {@link #ANONYMOUS}, and answers only its status (see {@link StatusPages#health}).
 *
 * <p>bcrypt takes 50-100 ms per check: credentials seen recently pass on the event loop (a
 * SHA-256 lookup); others are checked on one dedicated worker thread, so a flood of wrong
 * passwords neither blocks the event loop nor takes the workers that serve scrapes. At most
 * {@link #MAX_PENDING} checks wait; more get 429.
 */
final class BasicAuth {
    static final String REALM = "cgscope";
    static final String CHALLENGE = "Basic realm=\"" + REALM + "\"";
    /** Context key set on an unauthenticated {@code /healthz} request. */
    static final String ANONYMOUS = "cgscope.anonymous";
    static final int MAX_PENDING = 32;

    private final WebConfig web;
    private final WorkerExecutor checks;
    private final AtomicInteger pending = new AtomicInteger();
    private final LongAdder refused;

    /** {@code refused} counts the 401s. */
    BasicAuth(Vertx vertx, WebConfig web, LongAdder refused) {
        this.web = web;
        this.refused = refused;
        this.checks = vertx.createSharedWorkerExecutor("cgscope-auth", 1);
    }

    void handle(RoutingContext ctx) {
        String header = ctx.request().getHeader("Authorization");
        if (header == null && "/healthz".equals(ctx.normalizedPath())) {
            ctx.put(ANONYMOUS, Boolean.TRUE);
            ctx.next();
            return;
        }
        String[] credentials = credentials(header);
        if (credentials == null) {
            unauthorized(ctx, header == null ? "authentication required" : "malformed Authorization header");
            return;
        }
        String user = credentials[0];
        String password = credentials[1];
        if (web.remembered(user, password)) {
            ctx.next();
            return;
        }
        if (pending.incrementAndGet() > MAX_PENDING) {
            pending.decrementAndGet();
            ctx.response().putHeader("Retry-After", "1");
            Errors.send(ctx.response(), 429, "too many authentication attempts in progress; retry later");
            return;
        }
        checks.executeBlocking(() -> web.authenticate(user, password), false).onComplete(result -> {
            pending.decrementAndGet();
            if (result.succeeded() && result.result()) {
                ctx.next();
            } else {
                unauthorized(ctx, "wrong user name or password");
            }
        });
    }

    private void unauthorized(RoutingContext ctx, String message) {
        refused.increment();
        ctx.response().putHeader("WWW-Authenticate", CHALLENGE);
        Errors.send(ctx.response(), 401, message);
    }

    /** {@code Basic base64(user:password)} as {user, password}; null when absent or malformed. */
    static String[] credentials(String header) {
        if (header == null) {
            return null;
        }
        String h = header.strip();
        if (h.length() < 6 || !h.substring(0, 6).toLowerCase(Locale.ROOT).equals("basic ")) {
            return null;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(h.substring(6).strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = decoded.indexOf(':');
        return colon < 0 ? null : new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)};
    }
}
