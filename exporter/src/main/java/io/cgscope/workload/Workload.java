package io.cgscope.workload;

import java.util.Locale;

/**
 * What a cgroup is, as far as the node can tell: from its path alone ({@link PathClassifier}), then
 * with the names its container runtime wrote into the container's OCI bundle ({@link Bundles}).
 * Every field but {@code kind} is null where it does not apply or is not known. The JSON of the API
 * ({@code "workload"}) has one key per field, snake_case, in this order, nulls included.
 *
 * @param kind            what the cgroup is; a cgroup below a container (systemd inside a container,
 *                        a nested cgroup) has its container's identity and kind
 * @param namespace       the Kubernetes namespace of its pod (from a bundle, else kubelet's log files)
 * @param pod             the Kubernetes pod name (from a bundle, else kubelet's log files)
 * @param container       the container's name in its pod (from a bundle, else kubelet's log symlink);
 *                        {@code POD} for a pod's sandbox (pause) container, as cAdvisor names it
 * @param podUid          the pod's uid, with kubelet's {@code _} turned back into {@code -}
 * @param containerId     the runtime's container id (64 hex digits)
 * @param qosClass        the pod's QoS class, from the kubelet slice or directory it is in
 * @param runtime         the container runtime that made it
 * @param unit            the innermost systemd unit whose cgroup holds it ({@code nginx.service},
 *                        {@code cri-containerd-<id>.scope}, {@code session-3.scope}), as systemd spells it
 *                        ({@code \x2d} for a {@code -} inside a name)
 * @param slice           the innermost systemd slice above it or at it
 * @param image           the container's image (from a bundle)
 * @param podCgroup       the path of its pod's cgroup (for the pod roll-up)
 * @param containerCgroup the path of its container's cgroup (itself, or the container it is nested in)
 */
public record Workload(Kind kind, String namespace, String pod, String container, String podUid, String containerId,
                       QosClass qosClass, Runtime runtime, String unit, String slice, String image,
                       String podCgroup, String containerCgroup) {

    /** What a cgroup is. */
    public enum Kind {
        /** A container (Kubernetes, docker, podman), or a cgroup below one. */
        CONTAINER,
        /** A Kubernetes pod's own cgroup (the kubelet's pod slice or directory). */
        POD,
        /** A pod's sandbox (pause) container, as its bundle says. */
        SANDBOX,
        /** A systemd unit (service, scope, socket, mount, swap), of the system or of a user, or a cgroup below one. */
        SYSTEMD_UNIT,
        /** A systemd slice (or a kubelet QoS slice). */
        SLICE,
        /** A login session's scope ({@code session-3.scope}). */
        USER_SESSION,
        /** A virtual machine or system container registered with systemd-machined (libvirt, systemd-nspawn). */
        MACHINE,
        /** Anything else. */
        OTHER;

        private final String label = name().toLowerCase(Locale.ROOT).replace('_', '-');

        /** {@code container}, {@code pod}, {@code sandbox}, {@code systemd-unit}, ..., as exported. */
        public String label() {
            return label;
        }

        /** The kind with this label, or null. */
        public static Kind of(String label) {
            for (Kind k : values()) {
                if (k.label.equals(label)) {
                    return k;
                }
            }
            return null;
        }
    }

    /** A pod's QoS class (kubelet's {@code kubepods-burstable.slice}, {@code kubepods/besteffort}, or neither). */
    public enum QosClass {
        GUARANTEED, BURSTABLE, BESTEFFORT;

        private final String label = name().toLowerCase(Locale.ROOT);

        public String label() {
            return label;
        }
    }

    /** The container runtime. */
    public enum Runtime {
        CONTAINERD("containerd"), CRI_O("cri-o"), DOCKER("docker"), PODMAN("podman");

        private final String label;

        Runtime(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** A cgroup nothing is known of. */
    public static final Workload OTHER = new Workload(Kind.OTHER, null, null, null, null, null, null, null, null, null,
            null, null, null);

    /** Whether this is a container or a sandbox (or a cgroup below one). */
    public boolean inContainer() {
        return containerCgroup != null;
    }

    /** The Kubernetes name of the sandbox container, as cAdvisor and the kubelet's labels name it. */
    public static final String SANDBOX_CONTAINER = "POD";

    /** This workload with what a container's bundle says. */
    Workload withBundle(BundleInfo b) {
        boolean sandbox = b.sandbox();
        return new Workload(sandbox ? Kind.SANDBOX : kind,
                or(b.namespace(), namespace), or(b.pod(), pod),
                sandbox ? SANDBOX_CONTAINER : or(b.container(), container),
                or(podUid, b.podUid()), containerId, qosClass, runtime == null ? b.runtime() : runtime,
                unit, slice, or(b.image(), image), podCgroup, containerCgroup);
    }

    /** This workload with its pod's names (learned from a bundle of another container of the pod). */
    Workload withPodNames(String namespace, String pod) {
        if (this.namespace != null && this.pod != null) {
            return this;
        }
        return new Workload(kind, or(this.namespace, namespace), or(this.pod, pod), container, podUid, containerId,
                qosClass, runtime, unit, slice, image, podCgroup, containerCgroup);
    }

    /**
     * This workload with the names kubelet's log files gave ({@link KubeletLogs}), where neither its
     * bundle nor another source named it: they never override a bundle's.
     */
    Workload withLogNames(KubeletLogs.Names n) {
        if (namespace != null && pod != null && (container != null || n.container() == null)) {
            return this;
        }
        return new Workload(kind, or(namespace, n.namespace()), or(pod, n.pod()), or(container, n.container()), podUid,
                containerId, qosClass, runtime, unit, slice, image, podCgroup, containerCgroup);
    }

    /**
     * The workload of a series that stands for all of a pod's containers of one name, across their
     * restarts ({@code --cgroup.roll-up=container}): no container id or unit, which differ per restart.
     */
    public Workload asContainerAcrossRestarts() {
        return new Workload(kind, namespace, pod, container, podUid, null, qosClass, runtime, null, slice, image,
                podCgroup, null);
    }

    /** The workload of a series that stands for a whole pod ({@code --cgroup.roll-up=pod}). */
    public Workload asPod() {
        return new Workload(Kind.POD, namespace, pod, null, podUid, null, qosClass, null, null, slice, null,
                podCgroup, null);
    }

    private static String or(String a, String b) {
        return a != null ? a : b;
    }
}
