package io.cgscope.workload;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads the Kubernetes identity out of an OCI runtime {@code config.json}: pure (bytes in, a
 * record out), with Jackson's streaming parser, which steps over everything but the top-level
 * {@code annotations} object (a spec is mostly mounts, capabilities and seccomp rules).
 *
 * <p>The keys, as the runtimes write them:
 * <ul>
 *   <li><b>containerd</b> (its CRI plugin, {@code internal/cri/annotations}):
 *       {@code io.kubernetes.cri.container-type} ({@code sandbox} or {@code container}),
 *       {@code io.kubernetes.cri.container-name}, {@code io.kubernetes.cri.sandbox-name},
 *       {@code io.kubernetes.cri.sandbox-namespace}, {@code io.kubernetes.cri.sandbox-uid},
 *       {@code io.kubernetes.cri.image-name}. containerd writes the spec as Go's {@code json.Marshal}
 *       makes it: one line, map keys sorted, {@code <>&} as {@code \u003c\u003e\u0026}.</li>
 *   <li><b>CRI-O</b> ({@code pkg/annotations}): {@code io.kubernetes.cri-o.ContainerType}
 *       ({@code sandbox} or {@code container}), and the kubelet's labels copied in as annotations:
 *       {@code io.kubernetes.container.name}, {@code io.kubernetes.pod.name},
 *       {@code io.kubernetes.pod.namespace}, {@code io.kubernetes.pod.uid}; the image in
 *       {@code io.kubernetes.cri-o.ImageName} (or, when that is empty, the image asked for,
 *       {@code io.kubernetes.cri-o.Image}); {@code io.container.manager} is {@code cri-o} (podman
 *       writes {@code libpod}). CRI-O saves the spec through runtime-tools' generator:
 *       {@code json.MarshalIndent} with tabs.</li>
 * </ul>
 */
public final class OciBundle {
    /** Larger than any real spec (they are a few KB to some tens with big seccomp profiles). */
    public static final int MAX_BYTES = 4 << 20;

    static final String CRI_TYPE = "io.kubernetes.cri.container-type";
    static final String CRI_CONTAINER = "io.kubernetes.cri.container-name";
    static final String CRI_POD = "io.kubernetes.cri.sandbox-name";
    static final String CRI_NAMESPACE = "io.kubernetes.cri.sandbox-namespace";
    static final String CRI_POD_UID = "io.kubernetes.cri.sandbox-uid";
    static final String CRI_IMAGE = "io.kubernetes.cri.image-name";
    static final String CRIO_TYPE = "io.kubernetes.cri-o.ContainerType";
    static final String CRIO_IMAGE_NAME = "io.kubernetes.cri-o.ImageName";
    static final String CRIO_IMAGE = "io.kubernetes.cri-o.Image";
    static final String KUBE_CONTAINER = "io.kubernetes.container.name";
    static final String KUBE_POD = "io.kubernetes.pod.name";
    static final String KUBE_NAMESPACE = "io.kubernetes.pod.namespace";
    static final String KUBE_POD_UID = "io.kubernetes.pod.uid";
    static final String MANAGER = "io.container.manager";

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
            .build();

    private OciBundle() {
    }

    /** A {@code config.json} that is not a JSON object with string annotations. */
    public static final class MalformedException extends Exception {
        MalformedException(String message) {
            super(message);
        }
    }

    /**
     * The identity in a {@code config.json}.
     *
     * @param layoutRuntime the runtime whose directory layout it was found in, or null when the
     *                      layout does not tell (then the annotations do)
     */
    public static BundleInfo parse(byte[] json, Workload.Runtime layoutRuntime) throws MalformedException {
        Map<String, String> a = annotations(json);
        Workload.Runtime runtime = layoutRuntime;
        String manager = a.get(MANAGER);
        boolean crio = a.containsKey(CRIO_TYPE) || "cri-o".equals(manager);
        if (runtime == null || runtime == Workload.Runtime.CRI_O || runtime == Workload.Runtime.PODMAN) {
            // containers/storage keeps CRI-O's and podman's bundles alike: the manager says whose it is
            if ("libpod".equals(manager)) {
                runtime = Workload.Runtime.PODMAN;
            } else if (crio) {
                runtime = Workload.Runtime.CRI_O;
            } else if (a.containsKey(CRI_TYPE)) {
                runtime = Workload.Runtime.CONTAINERD;
            }
        }
        if (a.containsKey(CRI_TYPE)) {
            return new BundleInfo("sandbox".equals(a.get(CRI_TYPE)), blank(a.get(CRI_CONTAINER)), blank(a.get(CRI_POD)),
                    blank(a.get(CRI_NAMESPACE)), blank(a.get(CRI_POD_UID)), blank(a.get(CRI_IMAGE)), runtime);
        }
        if (crio) {
            String image = blank(a.get(CRIO_IMAGE_NAME));
            return new BundleInfo("sandbox".equals(a.get(CRIO_TYPE)), blank(a.get(KUBE_CONTAINER)),
                    blank(a.get(KUBE_POD)), blank(a.get(KUBE_NAMESPACE)), blank(a.get(KUBE_POD_UID)),
                    image != null ? image : blank(a.get(CRIO_IMAGE)), runtime);
        }
        return new BundleInfo(false, null, null, null, null, null, runtime);
    }

    /** The top-level {@code annotations} of a spec (empty when it has none). */
    static Map<String, String> annotations(byte[] json) throws MalformedException {
        Map<String, String> out = new HashMap<>();
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new MalformedException("not a JSON object");
            }
            boolean seen = false;
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (!field.equals("annotations")) {
                    p.skipChildren();
                    continue;
                }
                if (seen) {
                    throw new MalformedException("annotations given twice");
                }
                seen = true;
                if (value == JsonToken.VALUE_NULL) {
                    continue;
                }
                if (value != JsonToken.START_OBJECT) {
                    throw new MalformedException("annotations is not an object");
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    if (p.nextToken() != JsonToken.VALUE_STRING) {
                        throw new MalformedException("annotation " + key + " is not a string");
                    }
                    out.put(key, p.getText());
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new MalformedException("truncated");
            }
            if (p.nextToken() != null) {
                throw new MalformedException("trailing data after the object");
            }
        } catch (IOException e) {
            // Jackson's parse errors (JsonParseException, StreamConstraintsException) are IOExceptions
            throw new MalformedException(e.getMessage() == null ? e.toString() : firstLine(e.getMessage()));
        }
        return out;
    }

    private static String blank(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
