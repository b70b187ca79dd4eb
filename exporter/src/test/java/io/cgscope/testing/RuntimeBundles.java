package io.cgscope.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * OCI bundles written as the container runtimes write them, into a test's runtime directory
 * ({@code --workload.runtime-dirs}). The bytes are the fixtures in
 * {@code src/test/resources/io/cgscope/workload/bundles}, shaped as containerd and CRI-O write a
 * spec (Go's {@code encoding/json}: containerd's one line, CRI-O's {@code MarshalIndent} with tabs;
 * map keys sorted; {@code <>&} escaped), with the fixture's ids and names swapped for the test's:
 * the container id, sandbox id and pod uid everywhere (kubelet's escaped uid included), the names
 * in their annotations.
 */
public final class RuntimeBundles {
    /** The ids and names in the fixtures. */
    public static final String CONTAINERD_ID = "9c1e5b4f3f7d2a8e6b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6";
    public static final String CONTAINERD_SANDBOX = "2f8ce2bd696584bcc7d7c107135a38354d6766bc7ea7dd137bb4acfc92592268";
    public static final String CONTAINERD_UID = "3f2a6d1e-7b4c-4e2a-9f10-8c5d2e7a1b90";
    public static final String CRIO_ID = "19b7277b9d905f981af64396c9c6bed34d39504ac63e53a75417cb5746887c21";
    public static final String CRIO_SANDBOX = "7d3258789e0084aff8a2081814991369df16b4ab6507f771e2737e5ba9bcf003";
    public static final String CRIO_UID = "5b5e07db-f1b9-4530-81ef-b7d04d66b83e";

    private RuntimeBundles() {
    }

    /** A fixture's bytes. */
    public static String fixture(String name) {
        try (InputStream in = RuntimeBundles.class.getResourceAsStream("/io/cgscope/workload/bundles/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A Kubernetes container's identity. */
    public record Identity(String containerId, String sandboxId, String podUid, String namespace, String pod,
                           String container, String image) {
    }

    /**
     * containerd's bundle of a container ({@code sandbox} false) or of the pod's sandbox, at
     * {@code <dir>/k8s.io/<id>/config.json}, with containerd's modes: the state and namespace
     * directories 0711, the bundle directory 0700 (root's alone, since containerd 1.5.7); returns the file.
     */
    public static Path containerd(Path dir, Identity id, boolean sandbox) {
        String json = fixture(sandbox ? "containerd-sandbox.json" : "containerd-container.json")
                .replace(CONTAINERD_ID, id.containerId)
                .replace(CONTAINERD_SANDBOX, sandbox ? id.containerId : id.sandboxId)
                .replace(CONTAINERD_UID.replace('-', '_'), id.podUid.replace('-', '_'))
                .replace(CONTAINERD_UID, id.podUid)
                .replace("default_web-0_", id.namespace + "_" + id.pod + "_");
        json = annotation(json, "io.kubernetes.cri.sandbox-name", id.pod);
        json = annotation(json, "io.kubernetes.cri.sandbox-namespace", id.namespace);
        if (!sandbox) {
            json = annotation(json, "io.kubernetes.cri.container-name", id.container);
            json = annotation(json, "io.kubernetes.cri.image-name", id.image);
        }
        Path config = write(dir.resolve("k8s.io").resolve(id.containerId), json);
        chmod(dir, "rwx--x--x");
        chmod(dir.resolve("k8s.io"), "rwx--x--x");
        chmod(config.getParent(), "rwx------");
        return config;
    }

    private static void chmod(Path p, String mode) {
        try {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString(mode));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** CRI-O's bundle of a container or sandbox, at {@code <dir>/<id>/userdata/config.json}; returns the file. */
    public static Path crio(Path dir, Identity id, boolean sandbox) {
        String json = fixture(sandbox ? "crio-sandbox.json" : "crio-container.json")
                .replace(CRIO_ID, id.containerId)
                .replace(CRIO_SANDBOX, sandbox ? id.containerId : id.sandboxId)
                .replace(CRIO_UID.replace('-', '_'), id.podUid.replace('-', '_'))
                .replace(CRIO_UID, id.podUid)
                .replace("coredns-6d4b75cb6d-4mtdm", id.pod)
                .replace("kube-system", id.namespace);
        if (!sandbox) {
            json = annotation(json, "io.kubernetes.container.name", id.container);
            json = annotation(json, "io.kubernetes.cri-o.ImageName", id.image);
            json = annotation(json, "io.kubernetes.cri-o.Image", id.image);
        }
        return write(dir.resolve(id.containerId).resolve("userdata"), json);
    }

    /** Replaces one annotation's string value, in either runtime's spacing. */
    static String annotation(String json, String key, String value) {
        Matcher m = Pattern.compile("(\"" + Pattern.quote(key) + "\": ?)\"[^\"]*\"").matcher(json);
        if (!m.find()) {
            throw new IllegalArgumentException("no annotation " + key);
        }
        return m.replaceFirst(Matcher.quoteReplacement(m.group(1) + "\"" + value + "\""));
    }

    private static Path write(Path bundleDir, String json) {
        try {
            Files.createDirectories(bundleDir);
            Path config = bundleDir.resolve("config.json");
            Files.writeString(config, json);
            return config;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
