package io.cgscope.workload;

/**
 * What a container's OCI bundle ({@code config.json}) says of it: its Kubernetes identity from the
 * annotations its runtime wrote, and the runtime whose layout it was found in. Fields are null
 * where the bundle does not say (a docker or podman container outside Kubernetes).
 *
 * @param sandbox   a pod's sandbox (pause) container
 * @param container the container's name in its pod
 * @param pod       the pod's name
 * @param namespace the pod's namespace
 * @param podUid    the pod's uid
 * @param image     the container's image
 * @param runtime   the runtime that wrote it
 */
public record BundleInfo(boolean sandbox, String container, String pod, String namespace, String podUid,
                         String image, Workload.Runtime runtime) {
}
