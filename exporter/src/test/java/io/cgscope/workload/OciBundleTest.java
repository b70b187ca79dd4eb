package io.cgscope.workload;

import io.cgscope.testing.RuntimeBundles;
import io.cgscope.workload.Workload.Runtime;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The spec parser on bundles as containerd, CRI-O, docker and podman write them, and on broken ones. */
class OciBundleTest {
    private static BundleInfo parse(String fixture, Runtime layout) throws Exception {
        return OciBundle.parse(RuntimeBundles.fixture(fixture).getBytes(StandardCharsets.UTF_8), layout);
    }

    @Test
    void containerdContainerAndSandbox() throws Exception {
        assertEquals(new BundleInfo(false, "nginx", "web-0", "default", RuntimeBundles.CONTAINERD_UID,
                "docker.io/library/nginx:1.27", Runtime.CONTAINERD), parse("containerd-container.json", Runtime.CONTAINERD));
        assertEquals(new BundleInfo(true, null, "web-0", "default", RuntimeBundles.CONTAINERD_UID, null,
                Runtime.CONTAINERD), parse("containerd-sandbox.json", Runtime.CONTAINERD));
        // containerd writes one line, as Go's json.Marshal does: <, > and & escaped
        String raw = RuntimeBundles.fixture("containerd-container.json");
        assertTrue(!raw.contains("\n") && raw.contains("fish \\u0026 chips \\u003ctoday\\u003e"), raw);
    }

    @Test
    void crioContainerAndSandbox() throws Exception {
        assertEquals(new BundleInfo(false, "coredns", "coredns-6d4b75cb6d-4mtdm", "kube-system", RuntimeBundles.CRIO_UID,
                "registry.k8s.io/coredns/coredns:v1.11.1", Runtime.CRI_O), parse("crio-container.json", null));
        assertEquals(new BundleInfo(true, "POD", "coredns-6d4b75cb6d-4mtdm", "kube-system", RuntimeBundles.CRIO_UID,
                null, Runtime.CRI_O), parse("crio-sandbox.json", null));
        assertTrue(RuntimeBundles.fixture("crio-container.json").startsWith("{\n\t\"ociVersion\": \"1.0.2-dev\",\n"),
                "CRI-O's MarshalIndent with tabs");
    }

    @Test
    void dockerAndPodmanOutsideKubernetes() throws Exception {
        assertEquals(new BundleInfo(false, null, null, null, null, null, Runtime.DOCKER),
                parse("docker-container.json", Runtime.DOCKER));
        // containers/storage holds podman's bundles too: the manager annotation tells
        assertEquals(new BundleInfo(false, null, null, null, null, null, Runtime.PODMAN),
                parse("podman-container.json", null));
    }

    @Test
    void crioFallsBackToTheImageAskedForWhenItHasNoName() throws Exception {
        String json = RuntimeBundles.fixture("crio-container.json").replace(
                "\"io.kubernetes.cri-o.ImageName\": \"registry.k8s.io/coredns/coredns:v1.11.1\"",
                "\"io.kubernetes.cri-o.ImageName\": \"\"");
        assertEquals("registry.k8s.io/coredns/coredns:v1.11.1",
                OciBundle.parse(json.getBytes(StandardCharsets.UTF_8), null).image());
    }

    @Test
    void brokenSpecsAreMalformed() {
        String good = RuntimeBundles.fixture("containerd-container.json");
        for (String bad : new String[] {"", "[]", "null", "\"x\"", "{", "{\"annotations\":[]}",
                "{\"annotations\":{\"io.kubernetes.cri.container-name\":1}}", good.substring(0, good.length() / 2),
                good + "{}", "{\"annotations\":{},\"annotations\":{}}", "{\"a\":" + "[".repeat(100) + "]".repeat(100) + "}",
                "{\"annotations\":{\"k\":\"\\ud800\"", "\u00ff\u00fe"}) {
            assertThrows(OciBundle.MalformedException.class,
                    () -> OciBundle.parse(bad.getBytes(StandardCharsets.UTF_8), Runtime.CONTAINERD), bad);
        }
    }

    @Test
    void noAnnotationsIsNoIdentity() throws Exception {
        assertEquals(new BundleInfo(false, null, null, null, null, null, Runtime.CONTAINERD),
                OciBundle.parse("{\"ociVersion\":\"1.1.0\",\"annotations\":null}".getBytes(), Runtime.CONTAINERD));
        assertEquals(new BundleInfo(false, null, null, null, null, null, null),
                OciBundle.parse("{}".getBytes(), null));
    }
}
