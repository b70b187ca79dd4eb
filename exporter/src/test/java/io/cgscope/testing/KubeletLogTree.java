package io.cgscope.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * kubelet's log directories as kubelet makes them, in a test's directory: {@code pods/} as its
 * {@code podLogsDir} ({@code /var/log/pods}) and {@code containers/} as {@code /var/log/containers}.
 * Kubelet makes the pod's directory {@code <namespace>_<pod>_<uid>} (0755) before the sandbox, each
 * container's directory {@code <container>/} (0755) before CreateContainer; the runtime writes
 * {@code <restart count>.log}; after StartContainer kubelet links
 * {@code containers/<pod>_<namespace>_<container>-<id>.log} to it (an absolute symlink). Every
 * directory is world-readable, as kubelet's are, so a process dropped to nobody reads them.
 */
public final class KubeletLogTree {
    private final Path pods;
    private final Path containers;

    public KubeletLogTree(Path dir) {
        this.pods = dir.resolve("pods");
        this.containers = dir.resolve("containers");
        mkdir(dir);
        mkdir(pods);
        mkdir(containers);
    }

    public Path podsDir() {
        return pods;
    }

    public Path containersDir() {
        return containers;
    }

    /** The flags naming this tree. */
    public String[] flags() {
        return new String[] {"--workload.pod-logs-dir=" + pods, "--workload.container-logs-dir=" + containers};
    }

    /** kubelet's createPodSandbox: the pod's log directory; returns it. */
    public Path pod(String namespace, String pod, String uid) {
        return mkdir(pods.resolve(namespace + "_" + pod + "_" + uid));
    }

    /** kubelet's generateContainerConfig: the container's log directory in its pod's. */
    public Path containerDir(String namespace, String pod, String uid, String container) {
        return mkdir(pod(namespace, pod, uid).resolve(container));
    }

    /**
     * The runtime's log file of a started container and kubelet's symlink to it, as after
     * StartContainer; returns the symlink.
     */
    public Path started(String namespace, String pod, String uid, String container, int restart, String containerId) {
        try {
            Path log = containerDir(namespace, pod, uid, container).resolve(restart + ".log");
            if (!Files.exists(log)) {
                Files.createFile(log);
            }
            return Files.createSymbolicLink(containers.resolve(pod + "_" + namespace + "_" + container + "-"
                    + containerId + ".log"), log.toAbsolutePath());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path mkdir(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
