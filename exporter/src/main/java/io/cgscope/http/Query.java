package io.cgscope.http;

import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.Set;

/**
 * Strict query parameters for the API: an unknown or repeated parameter is a 400, so a typo
 * ({@code ?limt=5}) is reported instead of silently ignored.
 */
final class Query {
    private final MultiMap params;

    private Query(MultiMap params) {
        this.params = params;
    }

    private static final Query NONE = new Query(MultiMap.caseInsensitiveMultiMap());

    static Query of(RoutingContext ctx, Set<String> allowed) {
        String raw = ctx.request().query();
        if (raw == null || raw.isEmpty()) {
            return NONE;
        }
        MultiMap params;
        try {
            params = ctx.queryParams();
        } catch (RuntimeException e) {
            throw Errors.badRequest("malformed query string");
        }
        for (String name : params.names()) {
            if (!allowed.contains(name)) {
                throw Errors.badRequest("unknown query parameter \"" + Errors.echo(name) + "\"; known: "
                        + String.join(", ", allowed.stream().sorted().toList()));
            }
            if (params.getAll(name).size() > 1) {
                throw Errors.badRequest("query parameter \"" + name + "\" given more than once");
            }
        }
        return new Query(params);
    }

    /** The value, or null when absent. */
    String get(String name) {
        List<String> all = params.getAll(name);
        return all.isEmpty() ? null : all.get(0);
    }

    int integer(String name, int defaultValue, int min, int max) {
        String v = get(name);
        if (v == null) {
            return defaultValue;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw Errors.badRequest(name + "=\"" + Errors.echo(v) + "\": expected an integer from " + min + " to " + max);
    }
}
