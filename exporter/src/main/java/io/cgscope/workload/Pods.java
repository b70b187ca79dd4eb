package io.cgscope.workload;

import io.cgscope.index.Cgroup;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The pods seen ({@code /pods}): every cgroup with a pod uid, live or retained, grouped by pod and container. */
public final class Pods {
    private Pods() {
    }

    /** One cgroup of a pod or container. */
    public record CgroupRef(long id, String path, boolean live) {
    }

    /**
     * A container (or the pod's sandbox) and its cgroups: its own and the ones below it.
     *
     * @param name null when no bundle named it
     */
    public record Container(String name, String containerId, Workload.Kind kind, Workload.Runtime runtime, String image,
                           List<CgroupRef> cgroups) {
    }

    /**
     * A pod: its own cgroups (its slice or directory, and others in it that are no container, such
     * as CRI-O's monitors) and its containers.
     *
     * @param namespace null when no bundle of it named it, as {@code name}
     */
    public record Pod(String uid, String namespace, String name, Workload.QosClass qosClass, List<CgroupRef> cgroups,
                      List<Container> containers) {
    }

    private static final Comparator<String> NULLS_LAST = Comparator.nullsLast(Comparator.naturalOrder());
    private static final Comparator<CgroupRef> BY_PATH = Comparator.comparing(CgroupRef::path, NULLS_LAST)
            .thenComparing(CgroupRef::id, Comparator.reverseOrder());

    /** Groups cgroups into pods, sorted by namespace, name and uid; containers by name and id. */
    public static List<Pod> group(Collection<Cgroup> cgroups, WorkloadResolver workloads) {
        Map<String, PodBuilder> pods = new LinkedHashMap<>();
        for (Cgroup c : cgroups) {
            if (c.path() == null) {
                continue;
            }
            Workload w = workloads.of(c.id(), c.path());
            if (w.podUid() == null) {
                continue;
            }
            PodBuilder p = pods.computeIfAbsent(w.podUid(), PodBuilder::new);
            p.add(c, w);
        }
        List<Pod> out = new ArrayList<>(pods.size());
        for (PodBuilder b : pods.values()) {
            out.add(b.build());
        }
        out.sort(Comparator.comparing(Pod::namespace, NULLS_LAST).thenComparing(Pod::name, NULLS_LAST)
                .thenComparing(Pod::uid));
        return out;
    }

    private static final class PodBuilder {
        final String uid;
        String namespace;
        String name;
        Workload.QosClass qos;
        final List<CgroupRef> own = new ArrayList<>();
        final Map<String, ContainerBuilder> containers = new LinkedHashMap<>();

        PodBuilder(String uid) {
            this.uid = uid;
        }

        void add(Cgroup c, Workload w) {
            namespace = namespace == null ? w.namespace() : namespace;
            name = name == null ? w.pod() : name;
            qos = qos == null ? w.qosClass() : qos;
            CgroupRef ref = new CgroupRef(c.id(), c.path(), c.isLive());
            if (w.containerId() == null) {
                own.add(ref);
                return;
            }
            containers.computeIfAbsent(w.containerId(), id -> new ContainerBuilder()).add(ref, w);
        }

        Pod build() {
            own.sort(BY_PATH);
            List<Container> list = new ArrayList<>(containers.size());
            containers.forEach((id, b) -> list.add(b.build(id)));
            list.sort(Comparator.comparing(Container::name, NULLS_LAST).thenComparing(Container::containerId));
            return new Pod(uid, namespace, name, qos, List.copyOf(own), List.copyOf(list));
        }
    }

    private static final class ContainerBuilder {
        Workload first;
        final List<CgroupRef> cgroups = new ArrayList<>();

        void add(CgroupRef ref, Workload w) {
            if (first == null || first.container() == null && w.container() != null) {
                first = w;
            }
            cgroups.add(ref);
        }

        Container build(String id) {
            cgroups.sort(BY_PATH);
            return new Container(first.container(), id, first.kind(), first.runtime(), first.image(), List.copyOf(cgroups));
        }
    }
}
