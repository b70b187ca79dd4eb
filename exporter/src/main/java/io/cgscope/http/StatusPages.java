package io.cgscope.http;

import io.cgscope.BuildInfo;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /healthz} and the {@code GET /} landing page. */
final class StatusPages {
    private final CgroupIndex index;
    private final BuildInfo build;
    private final String telemetryPath;

    StatusPages(CgroupIndex index, BuildInfo build, String telemetryPath) {
        this.index = index;
        this.build = build;
        this.telemetryPath = telemetryPath;
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

    /** The exporters' landing page: what this is, links, build, index mode and size. */
    void home(RoutingContext ctx) {
        IndexHealth.Status status = index.health().status();
        String notFollowing = status.notFollowing();
        StringBuilder h = new StringBuilder(2048);
        h.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>cgscope</title></head>\n<body>\n")
                .append("<h1>cgscope</h1>\n")
                .append("<p>Names every cgroup and measures it: a live index of cgroup id &rarr; path fed by")
                .append(" fanotify, per-cgroup counters from BPF, exported for Prometheus.</p>\n")
                .append("<p>").append(html(build.toString())).append("</p>\n")
                .append("<p>Index: mode <b>").append(html(status.mode().label())).append("</b>, ")
                .append(index.liveCount()).append(" live and ").append(index.deadCount())
                .append(" retained cgroups, ")
                .append(notFollowing == null ? "following the kernel" : "<b>not following</b>: " + html(notFollowing))
                .append(".</p>\n<ul>\n");
        link(h, telemetryPath, "Prometheus metrics");
        link(h, "/cgroups?state=live&limit=100", "live cgroups (JSON)");
        link(h, "/cgroup?path=/", "the root cgroup, by path (JSON); by id: /cgroup/&lt;id&gt;");
        link(h, "/pods?state=live", "Kubernetes pods and their containers (JSON)");
        link(h, "/events", "create and delete events (Server-Sent Events)");
        link(h, "/healthz", "health");
        h.append("</ul>\n</body></html>\n");
        Responses.send(ctx, "text/html; charset=utf-8", Buffer.buffer(h.toString()));
    }

    private static void link(StringBuilder h, String href, String what) {
        h.append("<li><a href=\"").append(html(href)).append("\">").append(html(href)).append("</a>: ")
                .append(what).append("</li>\n");
    }

    static String html(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
