package io.cgscope.workload;

/**
 * Reads pods' and containers' names out of the names of kubelet's log files: pure (a file name in,
 * a record or null out), no I/O. Kubelet makes them on every node, world-readable, whatever the
 * runtime, and they stay readable after {@code --run-as} (the bundles do not):
 * <ul>
 *   <li>{@code /var/log/pods/<namespace>_<pod>_<pod uid>/} (kubelet's {@code podLogsDir}): made
 *       0755 by kubelet ({@code BuildPodLogsDirectory}, in {@code createPodSandbox}) before it asks
 *       the runtime for the pod's sandbox, so before the sandbox's cgroup; each container's own
 *       directory {@code <container>/} inside it before {@code CreateContainer}. Kubelet before
 *       1.14 named the directory by the uid alone ({@link #isBareUid}): no names there.</li>
 *   <li>{@code /var/log/containers/<pod>_<namespace>_<container>-<container id>.log}: a symlink
 *       to the container's log file, made by kubelet ({@code legacyLogSymlink}) right after
 *       {@code StartContainer} returns, so a moment <em>after</em> the container's cgroup (made in
 *       {@code StartContainer} by containerd, in {@code CreateContainer} by CRI-O), and only when
 *       the runtime made the log file. The name alone says all: the link is never followed.
 *       Kubelet cuts a name longer than 255 bytes to 251 and adds {@code .log}
 *       ({@link #isTruncated}): the id (and maybe more) is lost then.</li>
 * </ul>
 * The split is unambiguous because Kubernetes' names cannot hold {@code _}: a namespace and a
 * container name are DNS labels ({@code [a-z0-9]([-a-z0-9]*[a-z0-9])?}, at most 63), a pod name a
 * DNS subdomain (such labels joined by {@code .}, at most 253); a pod uid is a UUID (or 32 hex
 * digits for a static pod), a container id 64 hex digits. So exactly two {@code _} separate the
 * three parts, and the container id follows the last {@code -}. Anything else is not kubelet's.
 */
public final class KubeletLogNames {
    /** Longest file name kubelet writes (ext4's limit); a longer symlink name is cut to this. */
    static final int MAX_FILE_NAME = 255;
    private static final String LOG = ".log";

    private KubeletLogNames() {
    }

    /** A pod's log directory: its namespace, name and uid. */
    public record PodDir(String namespace, String pod, String uid) {
    }

    /** A container's log symlink: its pod's name and namespace, its name and id. */
    public record ContainerLink(String pod, String namespace, String container, String containerId) {
    }

    /** {@code <namespace>_<pod>_<uid>}, or null when the name is not kubelet's. */
    public static PodDir podDir(String name) {
        if (name == null) {
            return null;
        }
        int a = name.indexOf('_');
        int b = a < 0 ? -1 : name.indexOf('_', a + 1);
        if (b < 0 || name.indexOf('_', b + 1) >= 0) {
            return null;
        }
        String namespace = name.substring(0, a);
        String pod = name.substring(a + 1, b);
        String uid = name.substring(b + 1);
        if (!isDnsLabel(namespace) || !isDnsSubdomain(pod) || PathClassifier.podUid(uid, '-') == null) {
            return null;
        }
        return new PodDir(namespace, pod, uid);
    }

    /** {@code <pod>_<namespace>_<container>-<id>.log}, or null when the name is not kubelet's (or cut). */
    public static ContainerLink containerLink(String name) {
        if (name == null || name.length() > MAX_FILE_NAME || !name.endsWith(LOG)) {
            return null;
        }
        String stem = name.substring(0, name.length() - LOG.length());
        int a = stem.indexOf('_');
        int b = a < 0 ? -1 : stem.indexOf('_', a + 1);
        if (b < 0 || stem.indexOf('_', b + 1) >= 0) {
            return null;
        }
        int dash = stem.lastIndexOf('-');
        if (dash <= b) {
            return null;
        }
        String pod = stem.substring(0, a);
        String namespace = stem.substring(a + 1, b);
        String container = stem.substring(b + 1, dash);
        String id = stem.substring(dash + 1);
        if (!BundleReader.isId(id) || !isDnsSubdomain(pod) || !isDnsLabel(namespace) || !isDnsLabel(container)) {
            return null;
        }
        return new ContainerLink(pod, namespace, container, id);
    }

    /**
     * Whether a symlink name is one kubelet cut at {@value #MAX_FILE_NAME} bytes: exactly that long
     * and ending in {@code .log} (an uncut name of that length still parses, and is no cut one).
     */
    public static boolean isTruncated(String name) {
        return name != null && name.length() == MAX_FILE_NAME && name.endsWith(LOG) && containerLink(name) == null;
    }

    /** A pod log directory of kubelet before 1.14: the uid alone, no names. */
    public static boolean isBareUid(String name) {
        return name != null && PathClassifier.podUid(name, '-') != null;
    }

    /** RFC 1123 label as Kubernetes checks it ({@code IsDNS1123Label}): a namespace, a container name. */
    static boolean isDnsLabel(String s) {
        return s.length() <= 63 && isLabelRun(s, 0, s.length());
    }

    /** RFC 1123 subdomain as Kubernetes checks it ({@code IsDNS1123Subdomain}): a pod name. */
    static boolean isDnsSubdomain(String s) {
        if (s.length() > 253) {
            return false;
        }
        int start = 0;
        while (true) {
            int dot = s.indexOf('.', start);
            int end = dot < 0 ? s.length() : dot;
            if (!isLabelRun(s, start, end)) {
                return false;
            }
            if (dot < 0) {
                return true;
            }
            start = dot + 1;
        }
    }

    /** {@code s[from, to)} is {@code [a-z0-9]([-a-z0-9]*[a-z0-9])?}. */
    private static boolean isLabelRun(String s, int from, int to) {
        if (to <= from || !isAlnum(s.charAt(from)) || !isAlnum(s.charAt(to - 1))) {
            return false;
        }
        for (int i = from + 1; i < to - 1; i++) {
            char c = s.charAt(i);
            if (!isAlnum(c) && c != '-') {
                return false;
            }
        }
        return true;
    }

    private static boolean isAlnum(char c) {
        return c >= 'a' && c <= 'z' || c >= '0' && c <= '9';
    }
}
