package io.cgscope;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Version and git revision, filtered into {@code build.properties} by Maven. */
public record BuildInfo(String version, String revision) {
    public static BuildInfo load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // falls through to "unknown"
        }
        return new BuildInfo(clean(p.getProperty("version")), clean(p.getProperty("revision")));
    }

    private static String clean(String v) {
        return v == null || v.isBlank() || v.startsWith("${") ? "unknown" : v;
    }

    @Override
    public String toString() {
        return "cgscope " + version + " (revision " + revision + ")";
    }
}
