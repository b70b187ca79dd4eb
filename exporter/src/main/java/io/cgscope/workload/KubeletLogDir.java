package io.cgscope.workload;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * One of kubelet's log directories and what its last listing found, by key (a pod uid, a container
 * id). {@link #list} runs on one thread (the tracker's); {@link #found} may be read by any.
 *
 * @param <T> what a file name parses into
 */
final class KubeletLogDir<T> {
    private static final Logger LOG = Logger.getLogger(KubeletLogDir.class.getName());
    /**
     * A directory is listed again although its modification time did not move when that time is
     * this close to the last listing's start: file timestamps are coarse (a jiffy), so an entry made
     * just after a listing may leave the time as it was.
     */
    static final long MTIME_SLACK_MILLIS = 1000;

    private final Path path;
    private final Function<String, T> parse;
    private final Function<T, String> key;
    private final Consumer<KubeletLogs.Failure> count;
    private volatile Map<String, T> found = Map.of();
    /** The names of the last listing that were no kubelet's (each counted when it first appeared). */
    private Set<String> bad = Set.of();
    private FileTime listedMtime;
    private long listedAtMillis;
    private volatile KubeletLogs.Failure failed;
    private boolean warned;

    /**
     * @param parse a file name into what it says, or null when it is not kubelet's
     * @param count counts a name that is not kubelet's ({@code malformed}, {@code truncated})
     */
    KubeletLogDir(Path path, Function<String, T> parse, Function<T, String> key, Consumer<KubeletLogs.Failure> count) {
        this.path = path;
        this.parse = parse;
        this.key = key;
        this.count = count;
    }

    Path path() {
        return path;
    }

    /** What the last listing found, by key. */
    Map<String, T> found() {
        return found;
    }

    /** Why the last listing failed ({@code missing}: no such directory; {@code unreadable}), or null. */
    KubeletLogs.Failure failed() {
        return failed;
    }

    /**
     * Lists the directory unless its modification time says nothing changed since the last listing;
     * true when it did list. On a failure keeps the last listing's names and remembers why.
     */
    boolean list() {
        FileTime mtime;
        try {
            mtime = Files.getLastModifiedTime(path);
        } catch (IOException | RuntimeException e) {
            failed(e);
            return false;
        }
        if (failed == null && mtime.equals(listedMtime) && listedAtMillis - mtime.toMillis() > MTIME_SLACK_MILLIS) {
            return false; // listed since its last change
        }
        long startedAt = System.currentTimeMillis();
        Map<String, T> now = new HashMap<>();
        Set<String> notKubelets = new HashSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(path)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                T parsed = parse.apply(name);
                if (parsed != null) {
                    now.put(key.apply(parsed), parsed);
                } else if (!name.startsWith(".") && !KubeletLogNames.isBareUid(name)) {
                    notKubelets.add(name);
                    if (!bad.contains(name)) {
                        count.accept(KubeletLogNames.isTruncated(name) ? KubeletLogs.Failure.TRUNCATED
                                : KubeletLogs.Failure.MALFORMED);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            failed(e);
            return false;
        }
        found = now;
        bad = notKubelets;
        listedMtime = mtime;
        listedAtMillis = startedAt;
        failed = null;
        return true;
    }

    private void failed(Exception e) {
        failed = e instanceof NoSuchFileException || e instanceof NotDirectoryException ? KubeletLogs.Failure.MISSING
                : KubeletLogs.Failure.UNREADABLE;
        if (!warned) {
            warned = true; // once: the counter tells how often names were lost to it
            String why = failed == KubeletLogs.Failure.MISSING ? "no such directory"
                    : e instanceof AccessDeniedException ? "permission denied" : e.toString();
            LOG.warning("workload: cannot list " + path + " (" + why + "); containers started from now on may"
                    + " lack their names (cgscope_workload_log_name_errors_total)");
        }
    }
}
