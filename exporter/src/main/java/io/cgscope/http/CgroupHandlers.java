package io.cgscope.http;

import io.cgscope.index.Cgroup;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.CgroupPaths;
import io.cgscope.index.HierarchyIndexes;
import io.cgscope.workload.Pods;
import io.cgscope.workload.Workload;
import io.cgscope.workload.WorkloadFilter;
import io.cgscope.workload.WorkloadResolver;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * {@code /cgroup/<id>}, {@code /cgroup?path=}, {@code /cgroups}, {@code /pods}: the index, with
 * each cgroup's workload, as JSON.
 */
final class CgroupHandlers {
    static final int LIST_DEFAULT = 1000;
    static final int LIST_MAX = 10_000;

    private final CgroupIndex index;
    private final WorkloadResolver workloads;
    private HierarchyIndexes hierarchies;

    CgroupHandlers(CgroupIndex index, WorkloadResolver workloads) {
        this.index = index;
        this.workloads = workloads;
    }

    private String json(Cgroup c) {
        return Json.cgroup(c, workloads.of(c.id(), c.path()));
    }

    private void json(StringBuilder sb, Cgroup c) {
        Json.cgroup(sb, c, workloads.of(c.id(), c.path()), null);
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
        if (known.isPresent() && (known.get().path() == null || !mayReadBundle(known.get().path()))) {
            Responses.json(ctx, json(known.get()));
            return;
        }
        if (known.isPresent()) {
            // a container's bundle may not have been read yet: a file read, off the event loop
            ctx.vertx().executeBlocking(() -> json(known.get()), false).onComplete(ar -> {
                if (ar.failed()) {
                    ctx.fail(ar.cause());
                } else {
                    Responses.json(ctx, ar.result());
                }
            });
            return;
        }
        ctx.vertx().executeBlocking(() -> index.lookup(id).map(this::json), false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else if (ar.result().isPresent()) {
                Responses.json(ctx, ar.result().get());
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
        String canonical = CgroupPaths.canonical(path);
        List<Cgroup> found = index.byPath(canonical);
        if (found.isEmpty()) {
            throw Errors.notFound("no cgroup with path \"" + Errors.echo(canonical) + "\"");
        }
        if (!mayReadBundle(canonical)) {
            Responses.json(ctx, byPathJson(canonical, found));
            return;
        }
        ctx.vertx().executeBlocking(() -> byPathJson(canonical, found), false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                Responses.json(ctx, ar.result());
            }
        });
    }

    private String byPathJson(String canonical, List<Cgroup> found) {
        StringBuilder sb = new StringBuilder(64 + found.size() * 450).append("{\"path\":");
        Json.string(sb, canonical);
        sb.append(",\"cgroups\":[");
        for (int i = 0; i < found.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            json(sb, found.get(i));
        }
        return sb.append("]}\n").toString();
    }

    /** Whether answering for this path may read a bundle (a file): then it is answered off the event loop. */
    private boolean mayReadBundle(String path) {
        return workloads.bundles().enabled() && containerIdOf(path) != null;
    }

    private static String containerIdOf(String path) {
        return io.cgscope.workload.PathClassifier.classify(path).containerId();
    }

    /**
     * {@code GET /cgroups?prefix=&state=live|dead|all&limit=&namespace=&pod=&container=&unit=&kind=&hierarchy=}:
     * sorted by path. A listing walks the whole index, so it runs off the event loop.
     */
    void list(RoutingContext ctx) {
        Query q = Query.of(ctx, Set.of("prefix", "state", "limit", "namespace", "pod", "container", "unit", "kind",
                "hierarchy"));
        CgroupIndex index = index(q);
        String prefix = q.get("prefix");
        CgroupIndex.StateFilter filter = state(q);
        int limit = q.integer("limit", LIST_DEFAULT, 1, LIST_MAX);
        WorkloadFilter select = new WorkloadFilter(
                checked(q, "namespace", WorkloadFilter::badNamespace),
                checked(q, "pod", WorkloadFilter::badPod),
                checked(q, "container", WorkloadFilter::badContainer),
                checked(q, "unit", WorkloadFilter::badUnit),
                kind(q.get("kind")));
        String p = prefix == null ? "" : CgroupPaths.canonical(prefix);
        ctx.vertx().executeBlocking(() -> {
            List<Cgroup> cgroups;
            boolean truncated;
            List<Workload> found = null;
            if (select.isAll()) {
                CgroupIndex.Listing listing = index.list(p, filter, limit);
                cgroups = listing.cgroups();
                truncated = listing.truncated();
            } else {
                // the index lists by path; the workload is each cgroup's own, so filter the whole listing
                cgroups = new ArrayList<>();
                found = new ArrayList<>();
                truncated = false;
                List<Cgroup> all = index.list(p, filter, Integer.MAX_VALUE).cgroups();
                List<Workload> each = new ArrayList<>(all.size());
                for (Cgroup c : all) {
                    each.add(workloads.of(c.id(), c.path()));
                }
                for (int i = 0; i < all.size(); i++) {
                    Cgroup c = all.get(i);
                    Workload w = each.get(i);
                    if (w.podUid() != null && w.pod() == null) {
                        // a pod's own cgroup sorts before its containers, whose bundles name the pod
                        w = workloads.of(c.id(), c.path());
                    }
                    if (!select.matches(w)) {
                        continue;
                    }
                    if (cgroups.size() == limit) {
                        truncated = true;
                        break;
                    }
                    cgroups.add(c);
                    found.add(w);
                }
            }
            StringBuilder sb = new StringBuilder(32 + cgroups.size() * 450).append("{\"cgroups\":[");
            for (int i = 0; i < cgroups.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                Cgroup c = cgroups.get(i);
                Json.cgroup(sb, c, found != null ? found.get(i) : workloads.of(c.id(), c.path()), null);
            }
            return sb.append("],\"truncated\":").append(truncated).append("}\n").toString();
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                Responses.json(ctx, ar.result());
            }
        });
    }

    /**
     * {@code GET /pods?namespace=&state=}: the pods seen, live and retained, each with its own
     * cgroups and its containers' (sandbox included); off the event loop (it walks the index).
     */
    void pods(RoutingContext ctx) {
        Query q = Query.of(ctx, Set.of("namespace", "state"));
        String namespace = checked(q, "namespace", WorkloadFilter::badNamespace);
        CgroupIndex.StateFilter filter = state(q);
        ctx.vertx().executeBlocking(() -> {
            List<Pods.Pod> pods = Pods.group(index.list("", filter, Integer.MAX_VALUE).cgroups(), workloads);
            StringBuilder sb = new StringBuilder(64 + pods.size() * 600).append("{\"pods\":[");
            boolean first = true;
            for (Pods.Pod pod : pods) {
                if (namespace != null && !namespace.equals(pod.namespace())) {
                    continue;
                }
                if (!first) {
                    sb.append(',');
                }
                first = false;
                Json.pod(sb, pod);
            }
            return sb.append("]}\n").toString();
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                Responses.json(ctx, ar.result());
            }
        });
    }

    private static CgroupIndex.StateFilter state(Query q) {
        String state = q.get("state");
        return switch (state == null ? "all" : state) {
            case "all" -> CgroupIndex.StateFilter.ALL;
            case "live" -> CgroupIndex.StateFilter.LIVE;
            case "dead" -> CgroupIndex.StateFilter.DEAD;
            default -> throw Errors.badRequest("state=\"" + Errors.echo(state) + "\": expected live, dead or all");
        };
    }

    /** A workload filter's value, or null when absent; 400 when it cannot be one. */
    private static String checked(Query q, String name, Function<String, String> why) {
        String v = q.get(name);
        if (v == null) {
            return null;
        }
        String bad = why.apply(v);
        if (bad != null) {
            throw Errors.badRequest(name + "=\"" + Errors.echo(v) + "\": " + bad);
        }
        return v;
    }

    private static Workload.Kind kind(String v) {
        if (v == null) {
            return null;
        }
        Workload.Kind k = Workload.Kind.of(v);
        if (k == null) {
            throw Errors.badRequest("kind=\"" + Errors.echo(v) + "\": expected container, pod, sandbox, systemd-unit,"
                    + " slice, user-session, machine or other");
        }
        return k;
    }
}
