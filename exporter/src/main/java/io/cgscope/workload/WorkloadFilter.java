package io.cgscope.workload;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A selection of cgroups by workload ({@code /cgroups?namespace=&pod=&container=&unit=&kind=}):
 * each given field must equal the workload's. Values are checked against what Kubernetes and
 * systemd allow, so a typo is an error rather than an empty answer.
 */
public record WorkloadFilter(String namespace, String pod, String container, String unit, Workload.Kind kind) {
    public static final WorkloadFilter ALL = new WorkloadFilter(null, null, null, null, null);

    /** RFC 1123 label: namespaces and container names. */
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    /** RFC 1123 subdomain: pod names. */
    private static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    public boolean isAll() {
        return namespace == null && pod == null && container == null && unit == null && kind == null;
    }

    public boolean matches(Workload w) {
        return (namespace == null || namespace.equals(w.namespace()))
                && (pod == null || pod.equals(w.pod()))
                && (container == null || container.equals(w.container()))
                && (unit == null || unit.equals(w.unit()))
                && (kind == null || kind == w.kind());
    }

    /** Why a namespace value is not one, or null when it is. */
    public static String badNamespace(String v) {
        return DNS_LABEL.matcher(v).matches() ? null
                : "expected a Kubernetes namespace (RFC 1123 label: a-z, 0-9, -, at most 63)";
    }

    /** Why a pod name is not one, or null when it is. */
    public static String badPod(String v) {
        return v.length() <= 253 && DNS_SUBDOMAIN.matcher(v).matches() ? null
                : "expected a Kubernetes pod name (RFC 1123 subdomain: a-z, 0-9, -, ., at most 253)";
    }

    /** Why a container name is not one, or null when it is ({@code POD} names the sandbox). */
    public static String badContainer(String v) {
        return Objects.equals(v, Workload.SANDBOX_CONTAINER) || DNS_LABEL.matcher(v).matches() ? null
                : "expected a Kubernetes container name (RFC 1123 label: a-z, 0-9, -, at most 63) or POD";
    }

    /** Why a unit name is not one, or null when it is. */
    public static String badUnit(String v) {
        return PathClassifier.isUnitName(v) && !v.endsWith(".slice") ? null
                : "expected a systemd unit name ([A-Za-z0-9:_.\\@-], ending .service, .scope, .socket, .mount or .swap)";
    }
}
