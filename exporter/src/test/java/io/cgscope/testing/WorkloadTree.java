package io.cgscope.testing;

import io.cgscope.testing.RuntimeBundles.Identity;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/**
 * The cgroups Kubernetes, docker, podman and systemd make, made for real below a test's unique
 * parent ({@link TestCgroups}), with the bundles the runtimes would have written first into a test's
 * runtime directories ({@code <dir>/containerd} in containerd's layout, {@code <dir>/crio} in
 * CRI-O's). No runtime runs: the cgroups are plain directories and the bundles files.
 */
public final class WorkloadTree {
    private final TestCgroups cgroups;
    private final Path containerd;
    private final Path crio;

    public WorkloadTree(TestCgroups cgroups, Path runtimeDir) {
        this.cgroups = cgroups;
        this.containerd = runtimeDir.resolve("containerd");
        this.crio = runtimeDir.resolve("crio");
    }

    /** {@code --workload.runtime-dirs} for this tree's bundles. */
    public String runtimeDirsFlag() {
        return "--workload.runtime-dirs=" + containerd + "," + crio;
    }

    /** A 64-hex container id derived from a seed (stable within a test, unique across seeds). */
    public static String containerId(String seed) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(seed.getBytes(StandardCharsets.UTF_8));
            return String.format("%064x", new BigInteger(1, h));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A pod uid derived from a seed. */
    public static String podUid(String seed) {
        return UUID.nameUUIDFromBytes(seed.getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** A made cgroup: its directory and its path as the index names it. */
    public record Made(Path dir, String path) {
        public long id() {
            return TestCgroups.id(dir);
        }
    }

    private Made make(String relative) {
        return new Made(cgroups.create(relative), cgroups.parentPath() + "/" + relative);
    }

    /** A pod of kubelet's systemd driver; {@code qos}: guaranteed, burstable or besteffort. */
    public record SystemdPod(WorkloadTree tree, String qos, String uid, String namespace, String name, String sliceRelative) {
        public String path() {
            return tree.cgroups.parentPath() + "/" + sliceRelative;
        }

        /**
         * Its sandbox: containerd's bundle, then its {@code cri-containerd-<id>.scope}.
         */
        public Made sandbox(String id) {
            RuntimeBundles.containerd(tree.containerd, new Identity(id, id, uid, namespace, name, null, null), true);
            return tree.make(sliceRelative + "/cri-containerd-" + id + ".scope");
        }

        /** A containerd container: its bundle, then its scope. */
        public Made containerd(String id, String sandboxId, String container, String image) {
            RuntimeBundles.containerd(tree.containerd, new Identity(id, sandboxId, uid, namespace, name, container, image),
                    false);
            return tree.make(sliceRelative + "/cri-containerd-" + id + ".scope");
        }

        /** A CRI-O container: its bundle, its scope and its monitor's ({@code crio-conmon-<id>.scope}). */
        public Made crio(String id, String sandboxId, String container, String image) {
            RuntimeBundles.crio(tree.crio, new Identity(id, sandboxId, uid, namespace, name, container, image), false);
            tree.make(sliceRelative + "/crio-conmon-" + id + ".scope");
            return tree.make(sliceRelative + "/crio-" + id + ".scope");
        }
    }

    public SystemdPod systemdPod(String qos, String uid, String namespace, String name) {
        String escaped = uid.replace('-', '_');
        String slice = qos.equals("guaranteed") ? "kubepods.slice/kubepods-pod" + escaped + ".slice"
                : "kubepods.slice/kubepods-" + qos + ".slice/kubepods-" + qos + "-pod" + escaped + ".slice";
        cgroups.create(slice);
        return new SystemdPod(this, qos, uid, namespace, name, slice);
    }

    /** A containerd container of kubelet's cgroupfs driver: {@code kubepods[/<qos>]/pod<uid>/<id>}. */
    public Made cgroupfsContainer(String qos, String uid, String namespace, String pod, String id, String container,
                                  String image) {
        RuntimeBundles.containerd(containerd, new Identity(id, containerId("sandbox-" + uid), uid, namespace, pod,
                container, image), false);
        return make((qos.equals("guaranteed") ? "kubepods/pod" : "kubepods/" + qos + "/pod") + uid + "/" + id);
    }

    /** A cgroup of any other layout (docker, podman, systemd units), made as given. */
    public Made plain(String relative) {
        return make(relative);
    }
}
