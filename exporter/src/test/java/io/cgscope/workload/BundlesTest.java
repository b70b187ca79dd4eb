package io.cgscope.workload;

import io.cgscope.testing.Cleanup;
import io.cgscope.testing.RuntimeBundles;
import io.cgscope.testing.RuntimeBundles.Identity;
import io.cgscope.workload.Workload.Kind;
import io.cgscope.workload.Workload.Runtime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Bundles found in both runtimes' layouts, read once, kept while their cgroups are, failures counted. */
class BundlesTest {
    static final String UID = "0b7e8f1c-2d3a-4b5c-8d9e-0f1a2b3c4d5e";
    static final String SB = "aa".repeat(32);
    static final String C1 = "c1".repeat(32);
    static final String C2 = "c2".repeat(32);
    static final String CRIO = "cc".repeat(32);

    private final Path containerd;
    private final Path crio;
    private final AtomicLong nanos = new AtomicLong();

    BundlesTest() throws Exception {
        containerd = Files.createTempDirectory("cgscope-containerd-");
        crio = Files.createTempDirectory("cgscope-crio-");
    }

    @AfterEach
    void clean() throws Exception {
        Cleanup.deleteTree(containerd);
        Cleanup.deleteTree(crio);
    }

    private Bundles bundles() {
        return new Bundles(new BundleReader(List.of(containerd, crio)), nanos::get);
    }

    private static Identity id(String container, String name) {
        return new Identity(container, SB, UID, "shop", "cart-5f7b9c-x2k9l", name, "registry.example.org/cart:2.1");
    }

    @Test
    void bothLayoutsAndTheSandbox() {
        RuntimeBundles.containerd(containerd, id(C1, "cart"), false);
        RuntimeBundles.containerd(containerd, id(SB, null), true);
        RuntimeBundles.crio(crio, id(CRIO, "proxy"), false);
        Bundles b = bundles();
        assertEquals(new BundleInfo(false, "cart", "cart-5f7b9c-x2k9l", "shop", UID, "registry.example.org/cart:2.1",
                Runtime.CONTAINERD), b.get(C1, 10));
        assertEquals(true, b.get(SB, 11).sandbox());
        assertEquals(new BundleInfo(false, "proxy", "cart-5f7b9c-x2k9l", "shop", UID, "registry.example.org/cart:2.1",
                Runtime.CRI_O), b.get(CRIO, 12));
        assertEquals(new Bundles.PodNames("shop", "cart-5f7b9c-x2k9l"), b.podNames(UID));
        assertEquals(Map.of(BundleReader.Failure.MISSING, 0L, BundleReader.Failure.UNREADABLE, 0L,
                BundleReader.Failure.MALFORMED, 0L), b.failures());
    }

    @Test
    void theResolverAddsNamesToWhatThePathSays() {
        RuntimeBundles.containerd(containerd, id(C1, "cart"), false);
        RuntimeBundles.containerd(containerd, id(SB, null), true);
        WorkloadResolver r = new WorkloadResolver(bundles());
        String pod = "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID.replace('-', '_') + ".slice";
        Workload c = r.of(10, pod + "/cri-containerd-" + C1 + ".scope");
        assertEquals(Kind.CONTAINER, c.kind());
        assertEquals("cart", c.container());
        assertEquals("shop", c.namespace());
        assertEquals(Workload.QosClass.BURSTABLE, c.qosClass());
        Workload sandbox = r.of(11, pod + "/cri-containerd-" + SB + ".scope");
        assertEquals(Kind.SANDBOX, sandbox.kind());
        assertEquals("POD", sandbox.container());
        Workload podCgroup = r.of(9, pod);
        assertEquals(Kind.POD, podCgroup.kind());
        assertEquals("cart-5f7b9c-x2k9l", podCgroup.pod(), "the pod's names from its containers' bundles");
        // cgroupfs driver: the runtime comes from where the bundle was
        Workload cgroupfs = r.of(12, "kubepods/burstable/pod" + UID + "/" + C1);
        assertEquals(Runtime.CONTAINERD, cgroupfs.runtime());
        assertEquals("cart", cgroupfs.container());
    }

    @Test
    void eachBundleIsReadOnceAndFailuresAreCountedAndRemembered() throws Exception {
        Bundles b = bundles();
        assertNull(b.get(C1, 10), "missing");
        RuntimeBundles.containerd(containerd, id(C1, "cart"), false);
        assertNull(b.get(C1, 10), "never read again: a missing bundle stays missing");
        assertEquals(1, b.reads());
        Files.createDirectories(containerd.resolve("k8s.io").resolve(C2));
        Files.writeString(containerd.resolve("k8s.io").resolve(C2).resolve("config.json"), "{\"annotations\":");
        assertNull(b.get(C2, 20));
        // a config.json that cannot be read (a directory: EISDIR; root reads files whatever their mode)
        Files.createDirectories(crio.resolve(CRIO).resolve("userdata").resolve("config.json"));
        assertNull(b.get(CRIO, 30));
        assertNull(b.get("not-an-id", 40));
        assertNull(b.get("0".repeat(64), 50));
        assertEquals(Map.of(BundleReader.Failure.MISSING, 2L, BundleReader.Failure.UNREADABLE, 1L,
                BundleReader.Failure.MALFORMED, 1L), b.failures());
        assertEquals(4, b.reads());
    }

    @Test
    void aBundleIsKeptUntilAllItsCgroupsLeftTheIndex() {
        RuntimeBundles.containerd(containerd, id(C1, "cart"), false);
        RuntimeBundles.containerd(containerd, id(C2, "cart"), false);
        Bundles b = bundles();
        b.get(C1, 10);
        b.get(C1, 11); // a nested cgroup of the same container
        b.get(C2, 0);  // asked for without a cgroup (a series' ancestor)
        Set<Long> known = new HashSet<>(Set.of(10L, 11L));
        b.prune(known::contains);
        assertEquals(2, b.size());
        known.remove(10L);
        b.prune(known::contains);
        assertEquals(2, b.size(), "cgroup 11 still has it");
        known.remove(11L);
        b.prune(known::contains);
        assertEquals(1, b.size(), "C1's cgroups are gone; C2 was never owned and waits its grace");
        assertEquals(new Bundles.PodNames("shop", "cart-5f7b9c-x2k9l"), b.podNames(UID));
        nanos.addAndGet(Bundles.UNOWNED_GRACE_NANOS + 1);
        b.prune(known::contains);
        assertEquals(0, b.size());
        assertNull(b.podNames(UID), "no bundle names the pod any more");
    }

    @Test
    void noRuntimeDirectoriesReadsNothingAndCountsNothing() {
        Bundles b = new Bundles(null);
        assertNull(b.get(C1, 1));
        assertEquals(0, b.reads());
        assertEquals(0L, b.failures().get(BundleReader.Failure.MISSING));
    }
}
