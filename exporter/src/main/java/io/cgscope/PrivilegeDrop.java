package io.cgscope;

import io.cgscope.linux.Credentials;
import io.cgscope.linux.SyscallException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * {@code --run-as}: once the fanotify mark is placed and the BPF programs are attached, the
 * process needs no privilege to keep working (the fds it holds stay usable), so it becomes an
 * unprivileged user. Verified afterwards on every thread: {@code /proc/self/task/* /status}.
 */
final class PrivilegeDrop {
    private static final Logger LOG = Logger.getLogger(PrivilegeDrop.class.getName());

    private PrivilegeDrop() {
    }

    /** Resolves the user early, so a typo fails at start-up with exit 2 rather than after everything started. */
    static Credentials.User resolve(String spec) throws StartupException {
        try {
            Credentials.User user = Credentials.lookup(spec);
            if (user == null) {
                throw new StartupException("--run-as=" + spec + ": no such user", 2, null);
            }
            return user;
        } catch (SyscallException e) {
            throw new StartupException("--run-as=" + spec + ": " + e.getMessage(), 2, e);
        }
    }

    static void to(Credentials.User user) throws StartupException {
        try {
            Credentials.become(user);
        } catch (SyscallException e) {
            throw new StartupException("cannot drop privileges to " + user.name() + ": " + e.getMessage(), e);
        }
        List<String> privileged = privilegedThreads(user.uid());
        if (!privileged.isEmpty()) {
            throw new StartupException("privilege drop incomplete: threads " + privileged
                    + " still have another uid or capabilities", null);
        }
        LOG.info("dropped privileges: now uid " + Integer.toUnsignedString(user.uid()) + " gid "
                + Integer.toUnsignedString(user.gid()) + " (" + user.name() + "), no capabilities, no supplementary groups");
    }

    /** Threads whose effective uid is not {@code uid} or whose effective capabilities are not empty. */
    static List<String> privilegedThreads(int uid) {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                String euid = null;
                String capEff = null;
                try {
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("Uid:")) {
                            euid = line.split("\\s+")[2];
                        } else if (line.startsWith("CapEff:")) {
                            capEff = line.split("\\s+")[1];
                        }
                    }
                } catch (IOException gone) {
                    continue; // the thread ended meanwhile
                }
                if (!Integer.toUnsignedString(uid).equals(euid) || capEff == null || !capEff.matches("0+")) {
                    out.add(task.getFileName() + " (uid " + euid + ", CapEff " + capEff + ")");
                }
            }
        } catch (IOException e) {
            out.add("unknown: " + e.getMessage());
        }
        return out;
    }
}
