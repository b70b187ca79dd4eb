package io.cgscope.http;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * How many connections HTTP may hold: at most {@code --web.max-connections}, and never so many
 * that fewer than {@link #RESERVE} of the process's file descriptors would be left for the rest of
 * cgscope. Every connection is an fd; the index needs fds to keep naming cgroups (directory
 * listings, lookups relative to a directory, re-sync sweeps that hold one per level), the scrape
 * reads {@code /proc}, the JVM opens what it needs. A connection flood must not take them.
 *
 * <p>The limit is the soft {@code RLIMIT_NOFILE} as HTTP starts (read from {@code
 * /proc/self/limits}; lowering it on a running process is not seen). The fds the rest of cgscope
 * holds are counted in {@code /proc/self/fd}, minus HTTP's own connections, at most once a
 * second while connections are accepted, so the cap shrinks when the index holds more:
 * <pre>cap = min(--web.max-connections, limit - RESERVE - others - Connections.ACCEPT_AHEAD)</pre>
 * With at most cap + ACCEPT_AHEAD sockets open, the process stays at or below limit - RESERVE
 * fds, give or take what the rest opens between two counts: that comes out of the reserve.
 *
 * <p>Threads: {@link #refresh} runs on the acceptor's thread only; {@link #cap} is read anywhere.
 */
final class FdBudget {
    /** File descriptors HTTP never takes: the index's, BPF's and the JVM's headroom. */
    static final int RESERVE = 256;
    /** Below this many connections HTTP refuses to start (the limit is too low to serve anybody). */
    static final int MIN_CONNECTIONS = 8;
    private static final long RECOUNT_NANOS = 1_000_000_000L;

    private final int maxConnections;
    private final LongSupplier readLimit;
    private final IntSupplier countOpenFds;
    private volatile long limit = -1;
    private volatile int cap;
    private volatile int others;
    private long countedAt;

    /**
     * @param readLimit    the soft RLIMIT_NOFILE, or -1 when unknown (then only maxConnections bounds)
     * @param countOpenFds the process's open fds now, or -1 when they cannot be counted
     */
    FdBudget(int maxConnections, LongSupplier readLimit, IntSupplier countOpenFds) {
        this.maxConnections = maxConnections;
        this.readLimit = readLimit;
        this.countOpenFds = countOpenFds;
        this.cap = maxConnections;
    }

    /** The budget of this process: its soft RLIMIT_NOFILE and its fds now. */
    static FdBudget ofThisProcess(int maxConnections) {
        return new FdBudget(maxConnections, FdBudget::softLimit, FdBudget::openFds);
    }

    /** As HTTP starts: reads the limit and counts the fds open. */
    void start() {
        limit = readLimit.getAsLong();
        recount(0);
    }

    /** Most connections allowed now. */
    int cap() {
        return cap;
    }

    /** Whether the file limit, not {@code --web.max-connections}, sets the cap. */
    boolean limitedByFds() {
        return cap < maxConnections;
    }

    long limit() {
        return limit;
    }

    /** The fds open outside HTTP's connections at the last count. */
    int others() {
        return others;
    }

    int maxConnections() {
        return maxConnections;
    }

    /** Recounts the fds if the last count is a second old; {@code httpOpen}: HTTP's sockets now. */
    void refresh(int httpOpen) {
        if (System.nanoTime() - countedAt >= RECOUNT_NANOS) {
            recount(httpOpen);
        }
    }

    /** Counts the fds now; {@code httpOpen}: HTTP's sockets now. */
    void recount(int httpOpen) {
        countedAt = System.nanoTime();
        int open = countOpenFds.getAsInt();
        if (open < 0 || limit < 0) {
            return; // keep the last cap: counting needs an fd, which a full table does not have
        }
        others = Math.max(0, open - httpOpen);
        long room = limit - RESERVE - others - Connections.ACCEPT_AHEAD;
        cap = (int) Math.max(0, Math.min(maxConnections, room));
    }

    /** The soft limit from {@code /proc/self/limits} ("Max open files  1024  4096  files"), or -1. */
    static long softLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).strip().split("\\s+")[0];
                    return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or /proc not mounted: fall back to --web.max-connections alone
        }
        return -1;
    }

    /** Entries of {@code /proc/self/fd}, less the one the listing itself holds; -1 when it cannot be listed. */
    static int openFds() {
        int n = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path ignored : fds) {
                n++;
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return n - 1;
    }
}
