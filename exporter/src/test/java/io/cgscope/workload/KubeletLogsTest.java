package io.cgscope.workload;

import io.cgscope.testing.Cleanup;
import io.cgscope.testing.KubeletLogTree;
import io.cgscope.testing.RuntimeBundles;
import io.cgscope.testing.RuntimeBundles.Identity;
import io.cgscope.workload.KubeletLogs.Failure;
import io.cgscope.workload.KubeletLogs.Names;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Names from a directory tree shaped as kubelet makes {@code /var/log/pods} and
 * {@code /var/log/containers}: found in memory once listed, wanted until found or
 * {@link KubeletLogs#WAIT_NANOS} passed, failures counted, a bundle's names first.
 */
class KubeletLogsTest {
    static final String UID = "0b7e8f1c-2d3a-4b5c-8d9e-0f1a2b3c4d5e";
    static final String UID2 = "5b5e07db-f1b9-4530-81ef-b7d04d66b83e";
    static final String SB = "aa".repeat(32);
    static final String C1 = "c1".repeat(32);
    static final String C2 = "c2".repeat(32);
    static final String POD = "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID.replace('-', '_')
            + ".slice";

    private final Path dir;
    private final KubeletLogTree tree;
    private final AtomicLong nanos = new AtomicLong(1_000);

    KubeletLogsTest() throws Exception {
        dir = Files.createTempDirectory("cgscope-kubelet-logs-");
        tree = new KubeletLogTree(dir.resolve("log"));
    }

    @AfterEach
    void clean() throws Exception {
        Cleanup.deleteTree(dir);
    }

    private KubeletLogs logs() {
        return new KubeletLogs(tree.podsDir(), tree.containersDir(), nanos::get);
    }

    private static Map<Failure, Long> failures(long missing, long unreadable, long malformed, long truncated) {
        return Map.of(Failure.MISSING, missing, Failure.UNREADABLE, unreadable, Failure.MALFORMED, malformed,
                Failure.TRUNCATED, truncated);
    }

    @Test
    void runningContainersAndPodsAreNamedOnceListed() {
        tree.started("shop", "cart-7d9f-x2k9l", UID, "cart", 0, C1);
        KubeletLogs logs = logs();
        assertNull(logs.container(C1, UID, 10), "nothing listed yet: wanted");
        assertTrue(logs.wanted());
        assertTrue(logs.awaiting(C1, UID));
        logs.refresh();
        assertEquals(new Names("shop", "cart-7d9f-x2k9l", "cart"), logs.container(C1, UID, 10));
        assertEquals(new Names("shop", "cart-7d9f-x2k9l", null), logs.pod(UID, 9));
        assertFalse(logs.awaiting(C1, UID));
        assertFalse(logs.wanted(), "nothing wanted any more");
        assertEquals(2, logs.listings(), "each directory listed once");
        assertEquals(failures(0, 0, 0, 0), logs.failures());
    }

    /**
     * The pod's directory precedes the sandbox; a container's symlink follows its cgroup: the
     * container is named by its pod first and awaited, then named whole when its link appears.
     */
    @Test
    void aSymlinkThatComesAMomentLate() {
        tree.pod("shop", "cart-7d9f-x2k9l", UID);
        KubeletLogs logs = logs();
        logs.container(SB, UID, 11); // the sandbox: never linked
        logs.refresh();
        assertEquals(new Names("shop", "cart-7d9f-x2k9l", null), logs.container(C1, UID, 10), "its pod's names");
        assertTrue(logs.awaiting(C1, UID), "its own name may still come");
        logs.refresh();
        assertTrue(logs.awaiting(C1, UID));
        nanos.addAndGet(KubeletLogs.WAIT_NANOS / 2);
        tree.started("shop", "cart-7d9f-x2k9l", UID, "cart", 0, C1);
        logs.refresh();
        assertEquals(new Names("shop", "cart-7d9f-x2k9l", "cart"), logs.container(C1, UID, 10));
        assertFalse(logs.awaiting(C1, UID));
        assertTrue(logs.awaiting(SB, UID), "the sandbox is still looked for");
        nanos.addAndGet(KubeletLogs.WAIT_NANOS);
        assertFalse(logs.awaiting(SB, UID), "bounded: no longer awaited");
        logs.refresh();
        assertFalse(logs.wanted());
        assertEquals(failures(1, 0, 0, 0), logs.failures(), "the sandbox had no symlink");
        assertEquals(new Names("shop", "cart-7d9f-x2k9l", null), logs.container(SB, UID, 11));
    }

    /** A directory is listed again only when its modification time moved (or is too recent to trust). */
    @Test
    void anUnchangedDirectoryIsNotListedAgain() throws Exception {
        tree.started("shop", "cart-7d9f-x2k9l", UID, "cart", 0, C1);
        FileTime old = FileTime.from(Instant.now().minusSeconds(60));
        Files.setLastModifiedTime(tree.containersDir(), old);
        Files.setLastModifiedTime(tree.podsDir(), old);
        KubeletLogs logs = logs();
        logs.container(C2, UID, 12); // not linked yet
        logs.refresh();
        assertEquals(2, logs.listings());
        logs.refresh();
        logs.refresh();
        assertEquals(2, logs.listings(), "unchanged since the listing: not listed again");
        tree.started("shop", "cart-7d9f-x2k9l", UID, "worker", 0, C2); // moves the directory's mtime
        logs.refresh();
        assertEquals(3, logs.listings());
        assertEquals(new Names("shop", "cart-7d9f-x2k9l", "worker"), logs.container(C2, UID, 12));
    }

    @Test
    void namesThatAreNotKubeletsAreCountedOnce() throws Exception {
        tree.started("shop", "cart-7d9f-x2k9l", UID, "cart", 0, C1);
        Files.createFile(tree.containersDir().resolve("not-kubelets.log"));
        String cut = ("p".repeat(150) + "_" + "n".repeat(40) + "_" + "c".repeat(20) + "-" + C2).substring(0, 251) + ".log";
        Files.createSymbolicLink(tree.containersDir().resolve(cut), Path.of("/nowhere"));
        Files.createDirectories(tree.podsDir().resolve(UID2)); // kubelet < 1.14: the uid alone, not counted
        Files.createDirectories(tree.podsDir().resolve("Bad_Name_" + UID2));
        KubeletLogs logs = logs();
        logs.container(C2, UID2, 12);
        logs.refresh();
        assertEquals(failures(0, 0, 2, 1), logs.failures());
        Files.setLastModifiedTime(tree.containersDir(), FileTime.from(Instant.now())); // listed again: not counted again
        logs.refresh();
        assertEquals(failures(0, 0, 2, 1), logs.failures());
        assertEquals(new Names("shop", "cart-7d9f-x2k9l", "cart"), logs.container(C1, UID, 10), "the good ones still");
    }

    /** A pod asked for before kubelet made its directory is wanted again by its next new container. */
    @Test
    void aPodDirectoryMadeAfterThePodWasAskedFor() {
        KubeletLogs logs = logs();
        assertNull(logs.pod(UID, 9)); // e.g. /pods, while kubelet still mounts the pod's volumes
        logs.refresh();
        nanos.addAndGet(KubeletLogs.WAIT_NANOS);
        logs.refresh();
        assertEquals(failures(1, 0, 0, 0), logs.failures());
        assertFalse(logs.wanted());
        tree.pod("shop", "cart-7d9f-x2k9l", UID);
        assertNull(logs.pod(UID, 9), "given up, not listed again by itself");
        logs.container(SB, UID, 11); // its sandbox: the directory exists by now
        assertTrue(logs.awaiting(SB, UID));
        logs.refresh();
        assertEquals(new Names("shop", "cart-7d9f-x2k9l", null), logs.pod(UID, 9));
        assertEquals(new Names("shop", "cart-7d9f-x2k9l", null), logs.container(SB, UID, 11));
    }

    @Test
    void aMissingDirectoryGivesNothingAndCountsItsContainers() throws Exception {
        KubeletLogs logs = new KubeletLogs(dir.resolve("no-pods"), dir.resolve("no-containers"), nanos::get);
        assertNull(logs.container(C1, UID, 10));
        logs.refresh();
        nanos.addAndGet(KubeletLogs.WAIT_NANOS);
        logs.refresh();
        assertEquals(failures(2, 0, 0, 0), logs.failures(), "the container and its pod");
        assertEquals(0, logs.listings());
        assertNull(logs.container(C2, UID, 12));
        assertFalse(logs.awaiting(C2, UID), "no directory: nothing to wait for");
    }

    @Test
    void namesAreKeptUntilAllTheirCgroupsLeftTheIndex() {
        tree.started("shop", "cart-7d9f-x2k9l", UID, "cart", 0, C1);
        KubeletLogs logs = logs();
        logs.container(C1, UID, 10); // not listed yet: its pod is asked for too
        logs.refresh();
        logs.container(C1, UID, 13); // nested: named at once
        assertEquals(2, logs.size());
        Set<Long> known = new HashSet<>(Set.of(10L, 13L));
        logs.prune(known::contains);
        assertEquals(2, logs.size());
        known.remove(10L);
        logs.prune(known::contains);
        assertEquals(1, logs.size(), "the pod was asked for by cgroup 10 alone; the container by 13 too");
        known.remove(13L);
        logs.prune(known::contains);
        assertEquals(0, logs.size());
    }

    @Test
    void offWithoutDirectories() {
        KubeletLogs logs = KubeletLogs.none();
        assertFalse(logs.enabled());
        assertNull(logs.container(C1, UID, 10));
        assertFalse(logs.awaiting(C1, UID));
        assertFalse(logs.wanted());
    }

    /** The resolver: a bundle's names first, the log names where no bundle named the container. */
    @Test
    void theResolverPrefersTheBundle() throws Exception {
        Path runtime = Files.createDirectories(dir.resolve("runtime"));
        RuntimeBundles.containerd(runtime, new Identity(C1, SB, UID, "shop", "cart-7d9f-x2k9l", "cart", "img:1"), false);
        tree.started("shop", "cart-7d9f-x2k9l", UID, "not-the-bundles", 0, C1);
        tree.started("shop", "cart-7d9f-x2k9l", UID, "worker", 0, C2);
        KubeletLogs logs = logs();
        WorkloadResolver r = new WorkloadResolver(new Bundles(new BundleReader(List.of(runtime))), logs);
        Workload cart = r.of(10, POD + "/cri-containerd-" + C1 + ".scope");
        assertEquals("cart", cart.container());
        assertEquals("img:1", cart.image());
        Workload worker = r.of(12, POD + "/cri-containerd-" + C2 + ".scope");
        assertNull(worker.container(), "no bundle, not listed yet");
        assertTrue(r.awaitingNames(worker));
        logs.refresh();
        worker = r.of(12, POD + "/cri-containerd-" + C2 + ".scope");
        assertEquals(List.of("shop", "cart-7d9f-x2k9l", "worker"), List.of(worker.namespace(), worker.pod(),
                worker.container()));
        assertNull(worker.image(), "log names have no image");
        assertEquals(Workload.Kind.CONTAINER, worker.kind());
        assertFalse(r.awaitingNames(worker));
        Workload pod = r.of(9, POD);
        assertEquals("cart-7d9f-x2k9l", pod.pod());
        assertFalse(r.awaitingNames(r.of(20, "system.slice/docker-" + C2 + ".scope")), "no pod: no log names awaited");
    }
}
