package io.cgscope.http;

import io.cgscope.index.Cgroup;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.HierarchyIndexes;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/** {@code /cgroup/<id>}, {@code /cgroup?path=}, {@code /cgroups}: the index as JSON. */
final class CgroupHandlers {
    static final int LIST_DEFAULT = 1000;
    static final int LIST_MAX = 10_000;

    private final CgroupIndex index;
    private HierarchyIndexes hierarchies;

    CgroupHandlers(CgroupIndex index) {
        this.index = index;
    }

    void hierarchies(HierarchyIndexes all) {
        this.hierarchies = all;
    }

    /**
     * The index {@code ?hierarchy=} asks for (by name, {@code memory}, {@code name=systemd}, or by
     * a controller of it), else the one in use: ids are unique only within a hierarchy.
     */
    private CgroupIndex index(Query q) {
        String name = q.get("hierarchy");
        if (name == null || hierarchies == null) {
            return index;
        }
        return hierarchies.byName(name).map(HierarchyIndexes.Indexed::index).orElseThrow(() -> Errors.badRequest(
                "hierarchy=\"" + Errors.echo(name) + "\": not an indexed hierarchy; known: " + String.join(", ",
                        hierarchies.all().stream().map(HierarchyIndexes.Indexed::name).toList())));
    }

    /**
     * {@code GET /cgroup/<id>}. A known id is answered on the event loop (an in-memory map read);
     * an unknown one is asked of the kernel (an on-demand lookup: system calls), off the event loop.
     */
    void byId(RoutingContext ctx) {
        long id = CgroupIds.parse(ctx.pathParam("id"));
        CgroupIndex index = index(Query.of(ctx, Set.of("hierarchy")));
        Optional<Cgroup> known = index.byId(id);
        if (known.isPresent()) {
            Responses.json(ctx, Json.cgroup(known.get()));
            return;
        }
        ctx.vertx().executeBlocking(() -> index.lookup(id), false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else if (ar.result().isPresent()) {
                Responses.json(ctx, Json.cgroup(ar.result().get()));
            } else {
                ctx.fail(Errors.notFound("no cgroup with id " + Long.toUnsignedString(id)
                        + " (never seen, or removed longer ago than --cgroup.retention)"));
            }
        });
    }

    /** {@code GET /cgroup?path=system.slice/nginx.service}: every id with that path, newest first. */
    void byPath(RoutingContext ctx) {
        Query q = Query.of(ctx, Set.of("path", "hierarchy"));
        CgroupIndex index = index(q);
        String path = q.get("path");
        if (path == null || path.isEmpty()) {
            throw Errors.badRequest("missing path: expected /cgroup?path=system.slice/nginx.service or /cgroup/<id>");
        }
        String canonical = canonical(path);
        List<Cgroup> found = index.byPath(canonical);
        if (found.isEmpty()) {
            throw Errors.notFound("no cgroup with path \"" + Errors.echo(canonical) + "\"");
        }
        StringBuilder sb = new StringBuilder(64 + found.size() * 200).append("{\"path\":");
        Json.string(sb, canonical);
        sb.append(",\"cgroups\":[");
        for (int i = 0; i < found.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            Json.cgroup(sb, found.get(i), null);
        }
        Responses.json(ctx, sb.append("]}\n").toString());
    }

    /**
     * {@code GET /cgroups?prefix=&state=live|dead|all&limit=}: sorted by path. A listing walks the
     * whole index, so it runs off the event loop.
     */
    void list(RoutingContext ctx) {
        Query q = Query.of(ctx, Set.of("prefix", "state", "limit", "hierarchy"));
        CgroupIndex index = index(q);
        String prefix = q.get("prefix");
        String state = q.get("state");
        CgroupIndex.StateFilter filter = switch (state == null ? "all" : state) {
            case "all" -> CgroupIndex.StateFilter.ALL;
            case "live" -> CgroupIndex.StateFilter.LIVE;
            case "dead" -> CgroupIndex.StateFilter.DEAD;
            default -> throw Errors.badRequest("state=\"" + Errors.echo(state) + "\": expected live, dead or all");
        };
        int limit = q.integer("limit", LIST_DEFAULT, 1, LIST_MAX);
        String p = prefix == null ? "" : canonical(prefix);
        ctx.vertx().executeBlocking(() -> {
            CgroupIndex.Listing listing = index.list(p, filter, limit);
            StringBuilder sb = new StringBuilder(32 + listing.cgroups().size() * 200).append("{\"cgroups\":[");
            for (int i = 0; i < listing.cgroups().size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                Json.cgroup(sb, listing.cgroups().get(i), null);
            }
            return sb.append("],\"truncated\":").append(listing.truncated()).append("}\n").toString();
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                Responses.json(ctx, ar.result());
            }
        });
    }

    /** {@code /system.slice/} and {@code system.slice} name the same cgroup; {@code /} is the root. */
    static String canonical(String path) {
        String p = path;
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        while (p.length() > 1 && p.startsWith("/")) {
            p = p.substring(1);
        }
        return p;
    }
}
