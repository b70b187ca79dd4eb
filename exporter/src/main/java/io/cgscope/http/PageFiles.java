package io.cgscope.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * The live page's files ({@code GET /} and {@code GET /static/<file>}): plain HTML, CSS and
 * JavaScript packaged in the jar ({@code io/cgscope/page/}), read once at start, served from
 * memory with an ETag (a revalidation costs a 304), never from the file system.
 */
final class PageFiles {
    private static final String DIR = "/io/cgscope/page/";
    private static final Map<String, String> TYPES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "cgscope.css", "text/css; charset=utf-8",
            "cgscope.js", "text/javascript; charset=utf-8",
            "favicon.svg", "image/svg+xml");

    private record File(String contentType, Buffer body, String etag) {
    }

    private final Map<String, File> files;

    PageFiles() {
        java.util.HashMap<String, File> loaded = new java.util.HashMap<>();
        TYPES.forEach((name, type) -> {
            byte[] bytes = read(name);
            loaded.put(name, new File(type, Buffer.buffer(bytes), etag(bytes)));
        });
        files = Map.copyOf(loaded);
    }

    /** {@code GET /}: the page. */
    void index(RoutingContext ctx) {
        Query.of(ctx, java.util.Set.of());
        send(ctx, files.get("index.html"));
    }

    /** {@code GET /static/<file>}. */
    void file(RoutingContext ctx) {
        String name = ctx.pathParam("file");
        File f = name.equals("index.html") ? null : files.get(name);
        if (f == null) {
            throw Errors.notFound("no file \"" + Errors.echo(name) + "\"; the page is at /");
        }
        send(ctx, f);
    }

    private static void send(RoutingContext ctx, File f) {
        ctx.response().putHeader("ETag", f.etag).putHeader("Cache-Control", "no-cache");
        String match = ctx.request().getHeader("If-None-Match");
        if (match != null && (match.contains(f.etag) || match.strip().equals("*"))) {
            ctx.response().setStatusCode(304).end();
            return;
        }
        Responses.send(ctx, f.contentType, f.body);
    }

    private static byte[] read(String name) {
        try (InputStream in = PageFiles.class.getResourceAsStream(DIR + name)) {
            if (in == null) {
                throw new IllegalStateException("the jar lacks " + DIR + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String etag(byte[] bytes) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(bytes);
            return "\"" + HexFormat.of().formatHex(hash, 0, 12) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
