package io.cgscope.http;

import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /healthz}. (The page at {@code GET /} is {@link PageFiles}.) */
final class StatusPages {
    private final CgroupIndex index;

    StatusPages(CgroupIndex index) {
        this.index = index;
    }

    /**
     * 200 while the index follows the kernel; 503 with the reason otherwise. Asked without
     * credentials while basic auth is on ({@link BasicAuth#ANONYMOUS}): the status alone, no
     * index mode, size or error text.
     */
    void health(RoutingContext ctx) {
        IndexHealth.Status status = index.health().status();
        String notFollowing = status.notFollowing();
        if (ctx.get(BasicAuth.ANONYMOUS) != null) {
            if (notFollowing != null) {
                Errors.send(ctx.response(), 503, "not healthy");
            } else {
                Responses.json(ctx, "{\"status\":\"ok\"}\n");
            }
            return;
        }
        if (notFollowing != null) {
            Errors.send(ctx.response(), 503, "index not following the kernel: " + notFollowing);
            return;
        }
        StringBuilder sb = new StringBuilder(96).append("{\"status\":\"ok\",\"index_mode\":");
        Json.string(sb, status.mode().label());
        String degraded = status.degraded();
        if (degraded != null) {
            // Still following (by sweeps), but not the way it was asked to: say why.
            sb.append(",\"degraded\":");
            Json.string(sb, degraded);
        }
        sb.append(",\"cgroups\":").append(index.liveCount()).append("}\n");
        Responses.json(ctx, sb.toString());
    }
}
