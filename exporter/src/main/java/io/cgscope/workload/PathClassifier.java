package io.cgscope.workload;

import io.cgscope.workload.Workload.Kind;
import io.cgscope.workload.Workload.QosClass;
import io.cgscope.workload.Workload.Runtime;

/**
 * Names a cgroup from its path alone: pure, no I/O, never throws, for any string. The layouts,
 * each recognised under any prefix (a test's parent, or kind's {@code kubelet.slice/kubelet-kubepods.slice}):
 * <ul>
 *   <li><b>kubelet, systemd driver.</b> {@code kubepods.slice}, then for Burstable and BestEffort pods
 *       {@code kubepods-burstable.slice} or {@code kubepods-besteffort.slice}, then the pod's
 *       {@code kubepods[-<qos>]-pod<uid>.slice}: kubelet writes the pod uid with each {@code -} as
 *       {@code _}, because systemd reads {@code -} in a slice name as a step down the hierarchy
 *       (kubelet's {@code CgroupName.ToSystemd}, {@code escapeSystemdCgroupName}). A slice's name
 *       repeats its parent's ({@code a.slice/a-b.slice}): with kubelet's {@code --cgroup-root=/kubelet}
 *       (kind) every name starts {@code kubelet-}. Guaranteed pods sit directly in the kubepods slice.
 *       Containers: {@code cri-containerd-<id>.scope} (containerd's {@code cgroupsPath}
 *       {@code <slice>:cri-containerd:<id>}), {@code crio-<id>.scope} (CRI-O's {@code <slice>:crio:<id>};
 *       {@code crio-conmon-<id>.scope} is its monitor, not the container), {@code docker-<id>.scope}
 *       (cri-dockerd).</li>
 *   <li><b>kubelet, cgroupfs driver.</b> {@code kubepods/burstable/pod<uid>/<id>},
 *       {@code kubepods/besteffort/...}, {@code kubepods/pod<uid>/<id>} (Guaranteed); CRI-O names its
 *       directories {@code crio-<id>} and {@code crio-conmon-<id>}.</li>
 *   <li><b>docker</b>: {@code docker-<id>.scope} (systemd driver, in {@code system.slice}, or in a
 *       user's manager when rootless), {@code docker/<id>} (cgroupfs).</li>
 *   <li><b>podman</b>: {@code libpod-<id>.scope} (in {@code machine.slice}, a pod's
 *       {@code machine-libpod_pod_<pod>.slice}, or a user's manager when rootless),
 *       {@code libpod-conmon-<id>.scope} (its monitor), {@code libpod_parent/libpod-<id>} (cgroupfs).</li>
 *   <li><b>systemd</b>: units ({@code .service}, {@code .scope}, {@code .socket}, {@code .mount},
 *       {@code .swap}) of the system and of users' managers ({@code user@1000.service/app.slice/app-foo.scope}),
 *       slices, login sessions ({@code session-3.scope}), machines ({@code machine-<name>.scope} from
 *       systemd-machined: libvirt, nspawn; {@code systemd-nspawn@<name>.service}).</li>
 * </ul>
 * A container id is exactly 64 lower-case hex digits. A cgroup below a container or a machine
 * belongs to it (systemd inside a container, libvirt's {@code vcpu0}). Names that only look like a
 * pattern stay what they are: {@code docker-compose.service} is a unit, {@code kubepods-fake.slice}
 * a slice, a 63-digit id no container, a plain 64-digit directory a container only below a pod
 * directory or {@code docker}.
 */
public final class PathClassifier {
    private static final String[] UNIT_SUFFIXES = {".service", ".scope", ".socket", ".mount", ".swap", ".slice"};
    /** systemd's UNIT_NAME_MAX is 256 with the NUL. */
    private static final int UNIT_NAME_MAX = 255;

    private PathClassifier() {
    }

    /**
     * The workload of a cgroup path as the index shows it (relative, no leading slash). The root
     * {@code /}, {@code /unknown}, null and anything else not relative are {@link Workload#OTHER}.
     */
    public static Workload classify(String path) {
        if (path == null || path.isEmpty() || path.charAt(0) == '/') {
            return Workload.OTHER;
        }
        String[] segs = path.split("/", -1);
        // kubelet
        int kubepodsAt = -1;
        boolean systemdKube = false;
        String kubeStem = null;
        int qosAt = -1;
        String qosStem = null;
        QosClass qos = null;
        int podAt = -1;
        String podUid = null;
        // systemd
        String unit = null;
        int unitAt = -1;
        String slice = null;
        int sliceAt = -1;
        String prevSliceStem = null;
        Runtime conmonOf = null;
        int conmonAt = -1;

        for (int i = 0; i < segs.length; i++) {
            String seg = segs[i];
            // a container or a machine: whatever is below belongs to it
            Container c = container(seg, i > 0 ? segs[i - 1] : null, podAt >= 0 && podAt == i - 1 && !systemdKube);
            if (c != null && !c.conmon) {
                boolean scope = seg.endsWith(".scope");
                return new Workload(Kind.CONTAINER, null, null, null, podUid, c.id, qos, c.runtime,
                        scope ? seg : unit, slice, null, podAt >= 0 ? join(segs, podAt) : null, join(segs, i));
            }
            if (c != null) {
                conmonOf = c.runtime;
                conmonAt = i;
            }
            boolean isSlice = seg.endsWith(".slice") && isUnitName(seg);
            String stem = isSlice ? seg.substring(0, seg.length() - ".slice".length()) : null;
            if (podAt < 0) {
                if (isSlice) {
                    if (kubepodsAt < 0 && (stem.equals("kubepods")
                            || prevSliceStem != null && stem.equals(prevSliceStem + "-kubepods"))) {
                        kubepodsAt = i;
                        systemdKube = true;
                        kubeStem = stem;
                    } else if (systemdKube && kubepodsAt == i - 1 && qosAt < 0
                            && (qos = qosOf(stem, kubeStem + "-")) != null) {
                        qosAt = i;
                        qosStem = stem;
                    } else if (systemdKube && (qosAt == i - 1 || kubepodsAt == i - 1)) {
                        String parent = qosAt == i - 1 ? qosStem : kubeStem;
                        String uid = stem.startsWith(parent + "-pod") ? podUid(stem.substring(parent.length() + 4), '_')
                                : null;
                        if (uid != null) {
                            podAt = i;
                            podUid = uid;
                            qos = qos == null ? QosClass.GUARANTEED : qos;
                        }
                    }
                } else if (kubepodsAt < 0 && seg.equals("kubepods")) {
                    kubepodsAt = i;
                    systemdKube = false;
                } else if (!systemdKube && kubepodsAt >= 0 && kubepodsAt == i - 1 && qosAt < 0
                        && (qos = qosOf(seg, "")) != null) {
                    qosAt = i;
                } else if (!systemdKube && kubepodsAt >= 0 && (qosAt == i - 1 || kubepodsAt == i - 1)
                        && seg.startsWith("pod")) {
                    String uid = podUid(seg.substring(3), '-');
                    if (uid != null) {
                        podAt = i;
                        podUid = uid;
                        qos = qos == null ? QosClass.GUARANTEED : qos;
                    }
                }
            }
            if (isSlice) {
                slice = seg;
                sliceAt = i;
            } else if (isUnitName(seg)) {
                unit = seg;
                unitAt = i;
                if (isMachine(seg)) {
                    return new Workload(Kind.MACHINE, null, null, null, null, null, null, null, seg, slice, null, null,
                            null);
                }
            }
            prevSliceStem = stem;
        }
        int leaf = segs.length - 1;
        String podCgroup = podAt >= 0 ? join(segs, podAt) : null;
        Runtime runtime = conmonOf != null && conmonAt == leaf ? conmonOf : null;
        if (podAt == leaf) {
            return new Workload(Kind.POD, null, null, null, podUid, null, qos, null, null, systemdKube ? slice : null,
                    null, podCgroup, null);
        }
        Kind kind;
        if (unitAt > sliceAt) {
            kind = isSession(unit) ? Kind.USER_SESSION : Kind.SYSTEMD_UNIT;
        } else if (sliceAt == leaf) {
            kind = Kind.SLICE;
        } else {
            kind = Kind.OTHER;
        }
        // below a pod but no container (a runtime's monitor, a stray directory): the pod's, not a container
        QosClass q = podAt >= 0 || qosAt == leaf ? qos : null;
        return new Workload(kind, null, null, null, podUid, null, q, runtime, unitAt > sliceAt ? unit : null, slice,
                null, podCgroup, null);
    }

    /** A container (or a runtime's monitor of one) named by one path segment. */
    private record Container(String id, Runtime runtime, boolean conmon) {
    }

    private static Container container(String seg, String parent, boolean inCgroupfsPod) {
        int len = seg.length();
        if (len < 64) {
            return null;
        }
        if (len == 64) {
            if (!isId(seg, 0)) {
                return null;
            }
            if ("docker".equals(parent)) {
                return new Container(seg, Runtime.DOCKER, false);
            }
            return inCgroupfsPod ? new Container(seg, null, false) : null; // containerd or cri-dockerd
        }
        boolean scope = seg.endsWith(".scope");
        int end = scope ? len - ".scope".length() : len;
        if (end < 64 || !isId(seg, end - 64)) {
            return null;
        }
        String prefix = seg.substring(0, end - 64);
        String id = seg.substring(end - 64, end);
        return switch (prefix) {
            case "cri-containerd-" -> scope ? new Container(id, Runtime.CONTAINERD, false) : null;
            case "crio-" -> new Container(id, Runtime.CRI_O, false);
            case "crio-conmon-" -> new Container(id, Runtime.CRI_O, true);
            case "docker-" -> scope ? new Container(id, Runtime.DOCKER, false) : null;
            case "libpod-" -> new Container(id, Runtime.PODMAN, false);
            case "libpod-conmon-" -> new Container(id, Runtime.PODMAN, true);
            default -> null;
        };
    }

    /**
     * The container id a cgroup's own name carries ({@code cri-containerd-<id>.scope}, {@code <id>},
     * ...), or null: what the bundle tracker needs to read a bundle early, without the path.
     */
    public static String containerIdOfName(String name) {
        Container c = container(name, null, true);
        return c == null || c.conmon ? null : c.id;
    }

    private static boolean isId(String s, int from) {
        if (from < 0 || from + 64 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 64; i++) {
            char ch = s.charAt(i);
            if (!(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static QosClass qosOf(String name, String prefix) {
        if (name.equals(prefix + "burstable")) {
            return QosClass.BURSTABLE;
        }
        if (name.equals(prefix + "besteffort")) {
            return QosClass.BESTEFFORT;
        }
        return null;
    }

    /**
     * A pod uid as kubelet writes it: a UUID whose four separators are {@code sep} ({@code _} in
     * systemd slice names), or 32 hex digits (a static pod's uid: the hash of its manifest).
     * Returned with {@code -} separators; null when it is neither.
     */
    static String podUid(String s, char sep) {
        if (s.length() == 32) {
            for (int i = 0; i < 32; i++) {
                if (!isHex(s.charAt(i))) {
                    return null;
                }
            }
            return s;
        }
        if (s.length() != 36) {
            return null;
        }
        for (int i = 0; i < 36; i++) {
            char ch = s.charAt(i);
            boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
            if (dash ? ch != sep : !isHex(ch)) {
                return null;
            }
        }
        return sep == '-' ? s : s.replace(sep, '-');
    }

    private static boolean isHex(char ch) {
        return ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f';
    }

    /** A systemd unit name of a kind that has a cgroup: {@code [A-Za-z0-9:_.\@-]+} and a suffix. */
    static boolean isUnitName(String s) {
        if (s.length() > UNIT_NAME_MAX) {
            return false;
        }
        String suffix = null;
        for (String x : UNIT_SUFFIXES) {
            if (s.endsWith(x)) {
                suffix = x;
                break;
            }
        }
        if (suffix == null || s.length() == suffix.length() || s.charAt(0) == '.') {
            return false;
        }
        for (int i = 0; i < s.length() - suffix.length(); i++) {
            char ch = s.charAt(i);
            if (!(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9'
                    || ch == ':' || ch == '_' || ch == '.' || ch == '\\' || ch == '@' || ch == '-')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isSession(String unit) {
        if (!unit.startsWith("session-") || !unit.endsWith(".scope")) {
            return false;
        }
        String id = unit.substring("session-".length(), unit.length() - ".scope".length());
        if (id.isEmpty()) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char ch = id.charAt(i);
            if (!(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9')) {
                return false;
            }
        }
        return true;
    }

    /** systemd-machined's scopes ({@code machine-<escaped name>.scope}) and nspawn's service template. */
    private static boolean isMachine(String unit) {
        return unit.startsWith("machine-") && unit.endsWith(".scope") && unit.length() > "machine-.scope".length()
                || unit.startsWith("systemd-nspawn@") && unit.endsWith(".service")
                && unit.length() > "systemd-nspawn@.service".length();
    }

    private static String join(String[] segs, int last) {
        if (last == segs.length - 1) {
            return String.join("/", segs);
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i <= last; i++) {
            if (i > 0) {
                sb.append('/');
            }
            sb.append(segs[i]);
        }
        return sb.toString();
    }
}
