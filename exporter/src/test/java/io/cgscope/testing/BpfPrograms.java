package io.cgscope.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The BPF programs a process holds and those loaded on the machine. Held programs come from the
 * process's fds ({@code /proc/PID/fdinfo/*}: {@code prog_id:} of program and link fds), not from
 * {@code bpftool prog show}'s {@code pids}: Debian's bpftool 7.1 is built without that feature and
 * lists no holders at all.
 */
public final class BpfPrograms {
    private static final Pattern PROG_ID = Pattern.compile("(?m)^prog_id:\\s+(\\d+)$");
    private static final Pattern ID = Pattern.compile("\\{\"id\":(\\d+),");

    private BpfPrograms() {
    }

    /** Ids of the BPF programs whose fds (or links' fds) {@code pid} holds. */
    public static Set<Long> heldBy(long pid) {
        Set<Long> out = new TreeSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/" + pid + "/fdinfo"))) {
            for (Path fd : fds) {
                try {
                    Matcher m = PROG_ID.matcher(Files.readString(fd));
                    while (m.find()) {
                        out.add(Long.parseLong(m.group(1)));
                    }
                } catch (IOException closedMeanwhile) {
                    // the fd was closed while we looked
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /**
     * Waits until none of {@code ids} is loaded any more. Not at once: the kernel frees a program
     * when its last reference goes, and a link's reference goes after an RCU grace period
     * (exporter/KERNEL.md), so an id can still be listed a moment after {@code waitpid} (seen
     * once in CI). A program that stays is a leak.
     */
    public static void awaitUnloaded(Set<Long> ids, Duration timeout) {
        Await.until(timeout, () -> stillLoaded(ids).isEmpty(), () -> "BPF programs still loaded "
                + timeout.toSeconds() + " s after their holder exited: " + stillLoaded(ids));
    }

    private static Set<Long> stillLoaded(Set<Long> ids) {
        Set<Long> left = new TreeSet<>(ids);
        left.retainAll(loaded());
        return left;
    }

    /** Ids of every BPF program loaded on the machine ({@code bpftool -j prog show}). */
    public static Set<Long> loaded() {
        try {
            Process p = new ProcessBuilder("bpftool", "-j", "prog", "show").redirectErrorStream(true).start();
            String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new AssertionError("bpftool prog show: " + json);
            }
            Set<Long> out = new TreeSet<>();
            Matcher m = ID.matcher(json);
            while (m.find()) {
                out.add(Long.parseLong(m.group(1)));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
