package io.cgscope.workload;

import io.cgscope.index.CgroupNames;
import io.cgscope.workload.Workload.Kind;
import io.cgscope.workload.Workload.QosClass;
import io.cgscope.workload.Workload.Runtime;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The classifier over real-shaped paths: every layout kubelet (both drivers, all QoS classes, kind's
 * prefix), containerd, CRI-O, docker, podman and systemd make, and names that only look like them.
 */
class PathClassifierTest {
    // ids as the runtimes make them: 64 lower-case hex digits
    static final String C1 = "9c1e5b4f3f7d2a8e6b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6";
    static final String C2 = "4d798578d792ab0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";
    static final String C3 = "19b7277b9d905f981af64396c9c6bed34d39504ac63e53a75417cb5746887c21";
    static final String UID = "3f2a6d1e-7b4c-4e2a-9f10-8c5d2e7a1b90";
    static final String UID_ = UID.replace('-', '_');
    static final String STATIC_UID = "6b1f0c2d3e4a5b6c7d8e9f0a1b2c3d4e"; // a static pod: the manifest's md5

    private record Row(String path, Kind kind, String unit, String slice, String podUid, QosClass qos,
                       String containerId, Runtime runtime) {
    }

    private static final List<Row> ROWS = new ArrayList<>();

    private static void row(String path, Kind kind, String unit, String slice, String podUid, QosClass qos,
                            String containerId, Runtime runtime) {
        ROWS.add(new Row(path, kind, unit, slice, podUid, qos, containerId, runtime));
    }

    static {
        String bu = "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_ + ".slice";
        String be = "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + UID_ + ".slice";
        String gu = "kubepods.slice/kubepods-pod" + UID_ + ".slice";
        String podSliceBu = "kubepods-burstable-pod" + UID_ + ".slice";
        // kubelet, systemd driver
        row("kubepods.slice", Kind.SLICE, null, "kubepods.slice", null, null, null, null);
        row("kubepods.slice/kubepods-burstable.slice", Kind.SLICE, null, "kubepods-burstable.slice", null,
                QosClass.BURSTABLE, null, null);
        row("kubepods.slice/kubepods-besteffort.slice", Kind.SLICE, null, "kubepods-besteffort.slice", null,
                QosClass.BESTEFFORT, null, null);
        row(bu, Kind.POD, null, podSliceBu, UID, QosClass.BURSTABLE, null, null);
        row(be, Kind.POD, null, "kubepods-besteffort-pod" + UID_ + ".slice", UID, QosClass.BESTEFFORT, null, null);
        row(gu, Kind.POD, null, "kubepods-pod" + UID_ + ".slice", UID, QosClass.GUARANTEED, null, null);
        row(bu + "/cri-containerd-" + C1 + ".scope", Kind.CONTAINER, "cri-containerd-" + C1 + ".scope", podSliceBu, UID,
                QosClass.BURSTABLE, C1, Runtime.CONTAINERD);
        row(be + "/cri-containerd-" + C1 + ".scope", Kind.CONTAINER, "cri-containerd-" + C1 + ".scope",
                "kubepods-besteffort-pod" + UID_ + ".slice", UID, QosClass.BESTEFFORT, C1, Runtime.CONTAINERD);
        row(gu + "/cri-containerd-" + C1 + ".scope", Kind.CONTAINER, "cri-containerd-" + C1 + ".scope",
                "kubepods-pod" + UID_ + ".slice", UID, QosClass.GUARANTEED, C1, Runtime.CONTAINERD);
        row(bu + "/crio-" + C2 + ".scope", Kind.CONTAINER, "crio-" + C2 + ".scope", podSliceBu, UID, QosClass.BURSTABLE,
                C2, Runtime.CRI_O);
        row(bu + "/crio-conmon-" + C2 + ".scope", Kind.SYSTEMD_UNIT, "crio-conmon-" + C2 + ".scope", podSliceBu, UID,
                QosClass.BURSTABLE, null, Runtime.CRI_O);
        row(gu + "/docker-" + C3 + ".scope", Kind.CONTAINER, "docker-" + C3 + ".scope", "kubepods-pod" + UID_ + ".slice",
                UID, QosClass.GUARANTEED, C3, Runtime.DOCKER);
        // a static pod's uid (32 hex digits, no dashes)
        row("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + STATIC_UID + ".slice/cri-containerd-"
                        + C1 + ".scope", Kind.CONTAINER, "cri-containerd-" + C1 + ".scope",
                "kubepods-burstable-pod" + STATIC_UID + ".slice", STATIC_UID, QosClass.BURSTABLE, C1, Runtime.CONTAINERD);
        // nested below a container: systemd inside it, crun's container sub-cgroup
        row(bu + "/cri-containerd-" + C1 + ".scope/init.scope", Kind.CONTAINER, "cri-containerd-" + C1 + ".scope",
                podSliceBu, UID, QosClass.BURSTABLE, C1, Runtime.CONTAINERD);
        row(bu + "/crio-" + C2 + ".scope/container", Kind.CONTAINER, "crio-" + C2 + ".scope", podSliceBu, UID,
                QosClass.BURSTABLE, C2, Runtime.CRI_O);
        // kind: --cgroup-root=/kubelet puts kubelet.slice/kubelet-kubepods.slice in front, names included
        row("kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod"
                        + UID_ + ".slice/cri-containerd-" + C1 + ".scope", Kind.CONTAINER, "cri-containerd-" + C1 + ".scope",
                "kubelet-kubepods-burstable-pod" + UID_ + ".slice", UID, QosClass.BURSTABLE, C1, Runtime.CONTAINERD);
        row("kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" + UID_ + ".slice", Kind.POD, null,
                "kubelet-kubepods-pod" + UID_ + ".slice", UID, QosClass.GUARANTEED, null, null);
        // under any prefix (a test's parent; a nested hierarchy)
        row("cgscope-test-1-2/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_
                        + ".slice/cri-containerd-" + C1 + ".scope", Kind.CONTAINER, "cri-containerd-" + C1 + ".scope",
                podSliceBu, UID, QosClass.BURSTABLE, C1, Runtime.CONTAINERD);
        // kubelet, cgroupfs driver
        row("kubepods", Kind.OTHER, null, null, null, null, null, null);
        row("kubepods/burstable", Kind.OTHER, null, null, null, QosClass.BURSTABLE, null, null);
        row("kubepods/burstable/pod" + UID, Kind.POD, null, null, UID, QosClass.BURSTABLE, null, null);
        row("kubepods/burstable/pod" + UID + "/" + C1, Kind.CONTAINER, null, null, UID, QosClass.BURSTABLE, C1, null);
        row("kubepods/besteffort/pod" + UID + "/" + C1, Kind.CONTAINER, null, null, UID, QosClass.BESTEFFORT, C1, null);
        row("kubepods/pod" + UID + "/" + C1, Kind.CONTAINER, null, null, UID, QosClass.GUARANTEED, C1, null);
        row("kubepods/pod" + UID + "/crio-" + C2, Kind.CONTAINER, null, null, UID, QosClass.GUARANTEED, C2, Runtime.CRI_O);
        row("kubepods/pod" + UID + "/crio-conmon-" + C2, Kind.OTHER, null, null, UID, QosClass.GUARANTEED, null,
                Runtime.CRI_O);
        row("kubelet/kubepods/besteffort/pod" + UID + "/" + C1, Kind.CONTAINER, null, null, UID, QosClass.BESTEFFORT, C1,
                null);
        // docker, systemd and cgroupfs drivers, root and rootless
        row("system.slice/docker-" + C3 + ".scope", Kind.CONTAINER, "docker-" + C3 + ".scope", "system.slice", null, null,
                C3, Runtime.DOCKER);
        row("docker/" + C3, Kind.CONTAINER, null, null, null, null, C3, Runtime.DOCKER);
        row("user.slice/user-1000.slice/user@1000.service/user.slice/docker-" + C3 + ".scope", Kind.CONTAINER,
                "docker-" + C3 + ".scope", "user.slice", null, null, C3, Runtime.DOCKER);
        row("system.slice/docker.service", Kind.SYSTEMD_UNIT, "docker.service", "system.slice", null, null, null, null);
        // podman, root and rootless, systemd and cgroupfs managers
        row("machine.slice/libpod-" + C2 + ".scope", Kind.CONTAINER, "libpod-" + C2 + ".scope", "machine.slice", null,
                null, C2, Runtime.PODMAN);
        row("machine.slice/libpod-conmon-" + C2 + ".scope", Kind.SYSTEMD_UNIT, "libpod-conmon-" + C2 + ".scope",
                "machine.slice", null, null, null, Runtime.PODMAN);
        row("machine.slice/machine-libpod_pod_" + C1 + ".slice/libpod-" + C2 + ".scope", Kind.CONTAINER,
                "libpod-" + C2 + ".scope", "machine-libpod_pod_" + C1 + ".slice", null, null, C2, Runtime.PODMAN);
        row("user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + C2 + ".scope", Kind.CONTAINER,
                "libpod-" + C2 + ".scope", "user.slice", null, null, C2, Runtime.PODMAN);
        row("user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + C2 + ".scope/container", Kind.CONTAINER,
                "libpod-" + C2 + ".scope", "user.slice", null, null, C2, Runtime.PODMAN);
        row("libpod_parent/libpod-" + C2, Kind.CONTAINER, null, null, null, null, C2, Runtime.PODMAN);
        row("libpod_parent/conmon", Kind.OTHER, null, null, null, null, null, null);
        // systemd: system and user units, slices, sessions, machines
        row("system.slice", Kind.SLICE, null, "system.slice", null, null, null, null);
        row("system.slice/nginx.service", Kind.SYSTEMD_UNIT, "nginx.service", "system.slice", null, null, null, null);
        row("system.slice/system-getty.slice/getty@tty1.service", Kind.SYSTEMD_UNIT, "getty@tty1.service",
                "system-getty.slice", null, null, null, null);
        row("system.slice/foo.service/worker", Kind.SYSTEMD_UNIT, "foo.service", "system.slice", null, null, null, null);
        row("init.scope", Kind.SYSTEMD_UNIT, "init.scope", null, null, null, null, null);
        row("user.slice/user-1000.slice", Kind.SLICE, null, "user-1000.slice", null, null, null, null);
        row("user.slice/user-1000.slice/session-3.scope", Kind.USER_SESSION, "session-3.scope", "user-1000.slice", null,
                null, null, null);
        row("user.slice/user-1000.slice/session-c1.scope", Kind.USER_SESSION, "session-c1.scope", "user-1000.slice",
                null, null, null, null);
        row("user.slice/user-1000.slice/user@1000.service", Kind.SYSTEMD_UNIT, "user@1000.service", "user-1000.slice",
                null, null, null, null);
        row("user.slice/user-1000.slice/user@1000.service/app.slice/app-foo.scope", Kind.SYSTEMD_UNIT, "app-foo.scope",
                "app.slice", null, null, null, null);
        row("user.slice/user-1000.slice/user@1000.service/app.slice", Kind.SLICE, null, "app.slice", null, null, null,
                null);
        row("machine.slice/machine-qemu\\x2d1\\x2dvm1.scope", Kind.MACHINE, "machine-qemu\\x2d1\\x2dvm1.scope",
                "machine.slice", null, null, null, null);
        row("machine.slice/machine-qemu\\x2d1\\x2dvm1.scope/libvirt/vcpu0", Kind.MACHINE,
                "machine-qemu\\x2d1\\x2dvm1.scope", "machine.slice", null, null, null, null);
        row("machine.slice/systemd-nspawn@debian.service", Kind.MACHINE, "systemd-nspawn@debian.service",
                "machine.slice", null, null, null, null);
        row("machine.slice/systemd-nspawn@debian.service/payload/system.slice/cron.service", Kind.MACHINE,
                "systemd-nspawn@debian.service", "machine.slice", null, null, null, null);
        // look-alikes
        row("system.slice/docker-compose.service", Kind.SYSTEMD_UNIT, "docker-compose.service", "system.slice", null,
                null, null, null);
        row("kubepods.slice/kubepods-fake.slice", Kind.SLICE, null, "kubepods-fake.slice", null, null, null, null);
        row("kubepods.slice/kubepods-fake.slice/kubepods-fake-pod" + UID_ + ".slice", Kind.SLICE, null,
                "kubepods-fake-pod" + UID_ + ".slice", null, null, null, null);
        row("kubepods-fake/burstable/pod" + UID + "/" + C1, Kind.OTHER, null, null, null, null, null, null);
        row("system.slice/docker-" + C3.substring(1) + ".scope", Kind.SYSTEMD_UNIT, "docker-" + C3.substring(1) + ".scope",
                "system.slice", null, null, null, null); // a 63-hex id
        row("docker/" + C3.substring(1), Kind.OTHER, null, null, null, null, null, null);
        row("system.slice/docker-" + C3.toUpperCase() + ".scope", Kind.SYSTEMD_UNIT, "docker-" + C3.toUpperCase()
                + ".scope", "system.slice", null, null, null, null); // ids are lower-case
        row("some/dir/" + C1, Kind.OTHER, null, null, null, null, null, null); // 64 hex, not below a pod or docker
        row("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID + ".slice", Kind.SLICE, null,
                "kubepods-burstable-pod" + UID + ".slice", null, null, null, null); // dashes: not kubelet's escaping
        row("kubepods/burstable/pod" + UID_, Kind.OTHER, null, null, null, null, null, null); // not a pod: no QoS of one
        row("kubepods/burstable/pod" + UID + "/stray", Kind.OTHER, null, null, UID, QosClass.BURSTABLE, null, null);
        row("system.slice/cri-containerd-" + C1, Kind.OTHER, null, "system.slice", null, null, null, null);
        row("system.slice/my service.service", Kind.OTHER, null, "system.slice", null, null, null, null);
        row("machine.slice/machine-.scope", Kind.SYSTEMD_UNIT, "machine-.scope", "machine.slice", null, null, null, null);
        row("user.slice/user-1000.slice/session-.scope", Kind.SYSTEMD_UNIT, "session-.scope", "user-1000.slice", null,
                null, null, null);
        row(".slice", Kind.OTHER, null, null, null, null, null, null);
        // not paths of a cgroup
        row("/", Kind.OTHER, null, null, null, null, null, null);
        row("/unknown", Kind.OTHER, null, null, null, null, null, null);
        row("", Kind.OTHER, null, null, null, null, null, null);
    }

    @Test
    void everyRow() {
        assertTrue(ROWS.size() >= 40, "at least 40 paths: " + ROWS.size());
        List<String> wrong = new ArrayList<>();
        for (Row r : ROWS) {
            Workload w = PathClassifier.classify(r.path);
            Row got = new Row(r.path, w.kind(), w.unit(), w.slice(), w.podUid(), w.qosClass(), w.containerId(), w.runtime());
            if (!got.equals(r)) {
                wrong.add("\n  " + r.path + "\n    want " + r + "\n    got  " + got);
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void podAndContainerCgroupsAreThePathsRollUpsUse() {
        String pod = "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_ + ".slice";
        Workload nested = PathClassifier.classify(pod + "/cri-containerd-" + C1 + ".scope/init.scope/x");
        assertEquals(pod, nested.podCgroup());
        assertEquals(pod + "/cri-containerd-" + C1 + ".scope", nested.containerCgroup());
        assertEquals(pod, PathClassifier.classify(pod).podCgroup());
        assertEquals(null, PathClassifier.classify(pod).containerCgroup());
        Workload docker = PathClassifier.classify("docker/" + C3 + "/sub");
        assertEquals("docker/" + C3, docker.containerCgroup());
        assertEquals(null, docker.podCgroup());
        assertEquals(pod, PathClassifier.classify(pod + "/crio-conmon-" + C2 + ".scope").podCgroup());
    }

    @Test
    void containerIdsFromANameAlone() {
        assertEquals(C1, PathClassifier.containerIdOfName("cri-containerd-" + C1 + ".scope"));
        assertEquals(C2, PathClassifier.containerIdOfName("crio-" + C2 + ".scope"));
        assertEquals(C2, PathClassifier.containerIdOfName("crio-" + C2));
        assertEquals(C1, PathClassifier.containerIdOfName(C1));
        assertEquals(C3, PathClassifier.containerIdOfName("docker-" + C3 + ".scope"));
        assertEquals(C2, PathClassifier.containerIdOfName("libpod-" + C2 + ".scope"));
        assertEquals(null, PathClassifier.containerIdOfName("crio-conmon-" + C2 + ".scope"));
        assertEquals(null, PathClassifier.containerIdOfName("libpod-conmon-" + C2 + ".scope"));
        assertEquals(null, PathClassifier.containerIdOfName("nginx.service"));
        assertEquals(null, PathClassifier.containerIdOfName(C1.substring(1)));
    }

    /** The property: any byte string, decoded as the index decodes names, classifies without throwing. */
    @Test
    void neverThrowsOnAnyByteString() {
        Random random = new Random(16);
        byte[] alphabet = "/-_.@:\\x0123456789abcdefpodkubesliceservicescopecri-containerdcriodockerlibpod".getBytes();
        String[] pieces = {"kubepods.slice", "kubepods-burstable.slice", "kubepods-pod", "kubepods", "burstable",
                "pod" + UID, "pod" + UID_, ".slice", ".scope", "cri-containerd-", "crio-conmon-", "docker", "libpod-",
                C1, C2.substring(3), "/", "//", "machine-", "session-", "systemd-nspawn@", ".service", "\\x2d", "user@"};
        for (int i = 0; i < 60_000; i++) {
            String path;
            switch (i % 3) {
                case 0 -> { // raw bytes, any value
                    byte[] b = new byte[random.nextInt(300)];
                    random.nextBytes(b);
                    path = CgroupNames.decode(b);
                }
                case 1 -> { // bytes from the characters that matter
                    byte[] b = new byte[random.nextInt(200)];
                    for (int j = 0; j < b.length; j++) {
                        b[j] = alphabet[random.nextInt(alphabet.length)];
                    }
                    path = CgroupNames.decode(b);
                }
                default -> { // the patterns' own pieces, shuffled together
                    StringBuilder sb = new StringBuilder();
                    int n = random.nextInt(12);
                    for (int j = 0; j < n; j++) {
                        sb.append(pieces[random.nextInt(pieces.length)]);
                    }
                    path = sb.toString();
                }
            }
            Workload w = PathClassifier.classify(path);
            assertNotNull(w.kind(), path);
            PathClassifier.containerIdOfName(path);
            if (w.containerId() != null) {
                assertEquals(64, w.containerId().length(), path);
                assertTrue(path.contains(w.containerId()), path);
            }
            if (w.podCgroup() != null) {
                assertTrue(path.startsWith(w.podCgroup()), path);
            }
            if (w.containerCgroup() != null) {
                assertTrue(path.startsWith(w.containerCgroup()), path);
            }
        }
    }
}
