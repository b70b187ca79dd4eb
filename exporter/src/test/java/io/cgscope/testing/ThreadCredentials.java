package io.cgscope.testing;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The credentials of a process's threads, from {@code /proc/<pid>/task/<tid>/status}. */
public final class ThreadCredentials {
    private ThreadCredentials() {
    }

    /**
     * The threads of {@code pid} that are not entirely {@code uid} (real, effective, saved and fs
     * uids and gids, no supplementary groups) with no effective, permitted or ambient capability,
     * each with its status; empty when every thread is. A thread gone meanwhile is skipped.
     */
    public static List<String> notDroppedTo(long pid, int uid) {
        String u = Integer.toString(uid);
        String all = String.join(" ", u, u, u, u);
        List<String> out = new ArrayList<>();
        int seen = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks) {
                Map<String, String> s;
                try {
                    s = status(task.resolve("status"));
                } catch (IOException gone) {
                    continue;
                }
                seen++;
                boolean ok = all.equals(s.get("Uid")) && all.equals(s.get("Gid")) && "".equals(s.get("Groups"))
                        && Long.parseUnsignedLong(s.get("CapEff"), 16) == 0
                        && Long.parseUnsignedLong(s.get("CapPrm"), 16) == 0
                        && Long.parseUnsignedLong(s.get("CapAmb"), 16) == 0;
                if (!ok) {
                    out.add(task.getFileName() + " " + s);
                }
            }
        } catch (IOException e) {
            out.add("cannot list the threads of " + pid + ": " + e);
        }
        if (seen == 0) {
            out.add("no thread of " + pid + " read");
        }
        return out;
    }

    private static Map<String, String> status(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                out.put(line.substring(0, colon), line.substring(colon + 1).strip().replaceAll("\\s+", " "));
            }
        }
        return out;
    }
}
