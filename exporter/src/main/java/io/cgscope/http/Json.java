package io.cgscope.http;

import io.cgscope.index.Cgroup;
import io.cgscope.text.Escape;
import io.cgscope.workload.Workload;
import io.cgscope.index.OomKill;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The API's JSON, written by hand: a cgroup object is a handful of fields, and writing them
 * straight into a StringBuilder keeps {@code /cgroup/<id>} close to the cost of a constant
 * response. Ids are unsigned 64-bit numbers written in decimal; times are UTC with milliseconds.
 */
final class Json {
    static final String CONTENT_TYPE = "application/json";
    /** Always three fraction digits, unlike {@link Instant#toString()}: responses keep one shape. */
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private Json() {
    }

    /**
     * {@code {"id":4711,"path":"system.slice/nginx.service","parent_id":12,"state":"live",
     * "created_at":"...","deleted_at":null,"source":"event","workload":{...}}}; {@code time} is
     * added when not null (the event stream). The root's parent_id is null.
     */
    static StringBuilder cgroup(StringBuilder sb, Cgroup c, Workload w, Instant time) {
        sb.append("{\"id\":").append(Long.toUnsignedString(c.id()));
        sb.append(",\"path\":");
        string(sb, c.path());
        sb.append(",\"parent_id\":");
        if (c.parentId() == 0) {
            sb.append("null");
        } else {
            sb.append(Long.toUnsignedString(c.parentId()));
        }
        sb.append(",\"state\":\"").append(c.state().label()).append('"');
        sb.append(",\"created_at\":");
        time(sb, c.createdAt());
        sb.append(",\"deleted_at\":");
        time(sb, c.deletedAt());
        sb.append(",\"source\":\"").append(c.source().label()).append('"');
        if (w != null) {
            workload(sb.append(",\"workload\":"), w);
        }
        if (time != null) {
            sb.append(",\"time\":");
            time(sb, time);
        }
        return sb.append('}');
    }

    /**
     * {@code {"pid":4242,"comm":"python3","cgroup":{"id":929790,"path":"test.slice/oom.service"},
     * "memcg":{"id":929790,"path":"test.slice/oom.service","hierarchy":"cgroup2"},"scope":"cgroup",
     * "memcg_found_by":"oom_control","time":"..."}}: an {@code oom_kill} of the event stream. Unknown
     * parts are null: {@code cgroup} when the victim's cgroup is not known, {@code memcg} for a
     * global OOM or when none was found.
     */
    static StringBuilder oomKill(StringBuilder sb, OomKill k) {
        sb.append("{\"pid\":").append(k.pid()).append(",\"comm\":");
        string(sb, k.comm());
        sb.append(",\"cgroup\":");
        if (k.cgroupId() == 0 && k.cgroupPath() == null) {
            sb.append("null");
        } else {
            sb.append("{\"id\":").append(Long.toUnsignedString(k.cgroupId())).append(",\"path\":");
            string(sb, k.cgroupPath());
            sb.append('}');
        }
        sb.append(",\"memcg\":");
        if (k.memcgId() == 0) {
            sb.append("null");
        } else {
            sb.append("{\"id\":").append(Long.toUnsignedString(k.memcgId())).append(",\"path\":");
            string(sb, k.memcgPath());
            sb.append(",\"hierarchy\":");
            string(sb, k.memcgHierarchy());
            sb.append('}');
        }
        sb.append(",\"scope\":");
        string(sb, k.scope());
        sb.append(",\"memcg_found_by\":");
        string(sb, k.memcgFoundBy());
        sb.append(",\"time\":");
        time(sb, k.time());
        return sb.append('}');
    }

    static String cgroup(Cgroup c, Workload w) {
        return cgroup(new StringBuilder(448), c, w, null).append('\n').toString();
    }

    /**
     * A {@link Workload}: {@code {"kind":"container","namespace":"default","pod":"web-0",
     * "container":"nginx","pod_uid":"...","container_id":"...","qos_class":"burstable",
     * "runtime":"containerd","unit":"cri-containerd-<id>.scope","slice":"kubepods-burstable-pod..slice",
     * "image":"docker.io/library/nginx:1.27","pod_cgroup":"kubepods.slice/...","container_cgroup":"..."}}:
     * every key always, null where the workload has no value.
     */
    static StringBuilder workload(StringBuilder sb, Workload w) {
        sb.append("{\"kind\":\"").append(w.kind().label()).append('"');
        field(sb, "namespace", w.namespace());
        field(sb, "pod", w.pod());
        field(sb, "container", w.container());
        field(sb, "pod_uid", w.podUid());
        field(sb, "container_id", w.containerId());
        field(sb, "qos_class", w.qosClass() == null ? null : w.qosClass().label());
        field(sb, "runtime", w.runtime() == null ? null : w.runtime().label());
        field(sb, "unit", w.unit());
        field(sb, "slice", w.slice());
        field(sb, "image", w.image());
        field(sb, "pod_cgroup", w.podCgroup());
        field(sb, "container_cgroup", w.containerCgroup());
        return sb.append('}');
    }

    /**
     * A pod of {@code /pods}: {@code {"uid":"...","namespace":"default","name":"web-0",
     * "qos_class":"burstable","cgroups":[<ref>...],"containers":[{"name":"nginx","container_id":"...",
     * "kind":"container","runtime":"containerd","image":"...","cgroups":[<ref>...]}]}}, where a ref
     * is {@code {"id":4711,"path":"...","state":"live"}}.
     */
    static StringBuilder pod(StringBuilder sb, io.cgscope.workload.Pods.Pod p) {
        sb.append("{\"uid\":");
        string(sb, p.uid());
        field(sb, "namespace", p.namespace());
        field(sb, "name", p.name());
        field(sb, "qos_class", p.qosClass() == null ? null : p.qosClass().label());
        refs(sb.append(",\"cgroups\":"), p.cgroups());
        sb.append(",\"containers\":[");
        for (int i = 0; i < p.containers().size(); i++) {
            io.cgscope.workload.Pods.Container c = p.containers().get(i);
            if (i > 0) {
                sb.append(',');
            }
            sb.append("{\"name\":");
            string(sb, c.name());
            field(sb, "container_id", c.containerId());
            field(sb, "kind", c.kind().label());
            field(sb, "runtime", c.runtime() == null ? null : c.runtime().label());
            field(sb, "image", c.image());
            refs(sb.append(",\"cgroups\":"), c.cgroups());
            sb.append('}');
        }
        return sb.append("]}");
    }

    private static void refs(StringBuilder sb, java.util.List<io.cgscope.workload.Pods.CgroupRef> refs) {
        sb.append('[');
        for (int i = 0; i < refs.size(); i++) {
            io.cgscope.workload.Pods.CgroupRef r = refs.get(i);
            if (i > 0) {
                sb.append(',');
            }
            sb.append("{\"id\":").append(Long.toUnsignedString(r.id())).append(",\"path\":");
            string(sb, r.path());
            sb.append(",\"state\":\"").append(r.live() ? "live" : "dead").append("\"}");
        }
        sb.append(']');
    }

    static void field(StringBuilder sb, String name, String value) {
        sb.append(",\"").append(name).append("\":");
        string(sb, value);
    }

    static void time(StringBuilder sb, Instant t) {
        if (t == null) {
            sb.append("null");
        } else {
            sb.append('"');
            TIME.formatTo(t, sb);
            sb.append('"');
        }
    }

    /** A JSON string (or null): {@link Escape#json}. */
    static void string(StringBuilder sb, String s) {
        if (s == null) {
            sb.append("null");
        } else {
            Escape.json(sb, s);
        }
    }

    /**
     * {@code /hierarchies}: the one in use (it names the metrics and answers {@code /cgroup/<id>}
     * by default) and why, and each indexed hierarchy with its mode and size.
     */
    static String hierarchies(io.cgscope.index.HierarchyIndexes all) {
        StringBuilder sb = new StringBuilder(256).append("{\"in_use\":");
        string(sb, all.inUse().name());
        sb.append(",\"why\":");
        string(sb, all.why());
        sb.append(",\"hierarchies\":[");
        boolean first = true;
        for (io.cgscope.index.HierarchyIndexes.Indexed h : all.all()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            io.cgscope.index.IndexHealth.Status st = h.index().health().status();
            sb.append("{\"id\":").append(h.id()).append(",\"name\":");
            string(sb, h.name());
            sb.append(",\"mount\":");
            string(sb, h.mountPoint());
            sb.append(",\"mode\":");
            string(sb, st.mode().label());
            sb.append(",\"following\":").append(st.following());
            if (!st.following()) {
                sb.append(",\"not_following\":");
                string(sb, st.notFollowing());
            }
            sb.append(",\"live\":").append(h.index().liveCount()).append(",\"dead\":").append(h.index().deadCount())
                    .append('}');
        }
        return sb.append("]}\n").toString();
    }
}
