package io.cgscope.workload;

import io.cgscope.workload.KubeletLogNames.ContainerLink;
import io.cgscope.workload.KubeletLogNames.PodDir;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The names of kubelet's log directories and symlinks, as kubelet makes them
 * ({@code BuildPodLogsDirectory}: {@code <namespace>_<pod>_<uid>}; {@code legacyLogSymlink}:
 * {@code <pod>_<namespace>_<container>-<id>.log}, cut at 255 bytes), and names that only look like them.
 */
class KubeletLogNamesTest {
    static final String UID = "3f2a6d1e-7b4c-4e2a-9f10-8c5d2e7a1b90";
    static final String STATIC_UID = "6b1f0c2d3e4a5b6c7d8e9f0a1b2c3d4e"; // a static pod: its manifest's md5
    static final String ID = "9c1e5b4f3f7d2a8e6b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6";

    private record PodRow(String name, PodDir expected) {
    }

    private record LinkRow(String name, ContainerLink expected) {
    }

    private static final List<PodRow> PODS = new ArrayList<>();
    private static final List<LinkRow> LINKS = new ArrayList<>();

    private static void pod(String name, String namespace, String pod, String uid) {
        PODS.add(new PodRow(name, namespace == null ? null : new PodDir(namespace, pod, uid)));
    }

    private static void link(String name, String pod, String namespace, String container, String id) {
        LINKS.add(new LinkRow(name, pod == null ? null : new ContainerLink(pod, namespace, container, id)));
    }

    static {
        // kubelet's pod log directories
        pod("default_web-0_" + UID, "default", "web-0", UID);
        pod("kube-system_kube-apiserver-node-1_" + STATIC_UID, "kube-system", "kube-apiserver-node-1", STATIC_UID);
        pod("shop_cart-7d9f5b6c4-x2k9l_" + UID, "shop", "cart-7d9f5b6c4-x2k9l", UID);
        pod("ns_pod.with.dots_" + UID, "ns", "pod.with.dots", UID);
        pod("0_1_" + UID, "0", "1", UID); // one-character names are labels
        pod("a".repeat(63) + "_" + "p".repeat(253) + "_" + UID, "a".repeat(63), "p".repeat(253), UID);
        // look-alikes and malformed
        pod(UID, null, null, null);                               // kubelet < 1.14: the uid alone
        pod("default_web-0", null, null, null);                   // no uid
        pod("default_web-0_", null, null, null);
        pod("default__" + UID, null, null, null);                 // empty pod
        pod("_web-0_" + UID, null, null, null);                   // empty namespace
        pod("default_web_0_" + UID, null, null, null);            // a third _
        pod("Default_web-0_" + UID, null, null, null);            // upper case
        pod("default_Web-0_" + UID, null, null, null);
        pod("-default_web-0_" + UID, null, null, null);           // a label starts and ends alphanumeric
        pod("default-_web-0_" + UID, null, null, null);
        pod("default_web-0-_" + UID, null, null, null);
        pod("default_.web_" + UID, null, null, null);             // empty first label of the subdomain
        pod("default_web..0_" + UID, null, null, null);           // empty inner label
        pod("default_web.-0_" + UID, null, null, null);           // a label after a dot starts alphanumeric
        pod("a".repeat(64) + "_web-0_" + UID, null, null, null);  // a namespace is at most 63
        pod("default_" + "p".repeat(254) + "_" + UID, null, null, null); // a pod name at most 253
        pod("default_web-0_" + UID.replace('-', '_'), null, null, null); // kubelet's systemd escaping is no dir's
        pod("default_web-0_" + UID.toUpperCase(), null, null, null);
        pod("default_web-0_" + UID.substring(1), null, null, null);
        pod("default_web-0_" + STATIC_UID + "0", null, null, null);
        pod("default_wéb-0_" + UID, null, null, null);
        pod("default_web 0_" + UID, null, null, null);
        pod("", null, null, null);

        // kubelet's container log symlinks
        link("web-0_default_nginx-" + ID + ".log", "web-0", "default", "nginx", ID);
        link("cart-7d9f5b6c4-x2k9l_shop_istio-proxy-" + ID + ".log", "cart-7d9f5b6c4-x2k9l", "shop", "istio-proxy", ID);
        link("coredns.example-0_kube-system_coredns-" + ID + ".log", "coredns.example-0", "kube-system", "coredns", ID);
        link("p_n_c-" + ID + ".log", "p", "n", "c", ID);
        link("9_8_7-" + ID + ".log", "9", "8", "7", ID);
        // look-alikes and malformed
        link("web-0_default_nginx-" + ID + ".log.1", null, null, null, null);  // a rotated file, not a link name
        link("web-0_default_nginx-" + ID, null, null, null, null);             // no .log
        link("web-0_default_nginx-" + ID + ".txt", null, null, null, null);
        link("web-0_default_nginx-" + ID.substring(1) + ".log", null, null, null, null); // 63 hex digits
        link("web-0_default_nginx-" + ID + "0.log", null, null, null, null);   // 65
        link("web-0_default_nginx-" + ID.toUpperCase() + ".log", null, null, null, null);
        link("web-0_default_nginx-" + ID.substring(0, 63) + "g.log", null, null, null, null);
        link("web-0_default_nginx" + ID + ".log", null, null, null, null);     // no - before the id
        link("web-0_default_-" + ID + ".log", null, null, null, null);         // empty container name
        link("web-0_default_nginx--" + ID + ".log", null, null, null, null);   // a container name ends alphanumeric
        link("web-0_default_Nginx-" + ID + ".log", null, null, null, null);
        link("web-0_default_ng.inx-" + ID + ".log", null, null, null, null);   // a container name is a label: no dots
        link("web-0_default_" + "c".repeat(64) + "-" + ID + ".log", null, null, null, null); // at most 63
        link("web-0_default-" + ID + ".log", null, null, null, null);          // one _
        link("web_0_default_nginx-" + ID + ".log", null, null, null, null);    // three _
        link("web-0__nginx-" + ID + ".log", null, null, null, null);           // empty namespace
        link("_default_nginx-" + ID + ".log", null, null, null, null);         // empty pod
        link("web-0_de.fault_nginx-" + ID + ".log", null, null, null, null);   // a namespace is a label
        link("web-0_default-" + ID + "_nginx.log", null, null, null, null);    // the id in the wrong place
        link(ID + "-json.log", null, null, null, null);                        // docker's own log file
        link(ID + ".log", null, null, null, null);
        link(".log", null, null, null, null);
        link("", null, null, null, null);
        link("wéb-0_default_nginx-" + ID + ".log", null, null, null, null);
    }

    @Test
    void podDirectories() {
        for (PodRow r : PODS) {
            assertEquals(r.expected, KubeletLogNames.podDir(r.name), r.name);
        }
        assertTrue(PODS.size() >= 25, "rows: " + PODS.size());
    }

    @Test
    void containerLinks() {
        for (LinkRow r : LINKS) {
            assertEquals(r.expected, KubeletLogNames.containerLink(r.name), r.name);
            assertFalse(KubeletLogNames.isTruncated(r.name), r.name);
        }
        assertTrue(LINKS.size() >= 25, "rows: " + LINKS.size());
    }

    @Test
    void bareUidsAreKubeletsOldLayout() {
        assertTrue(KubeletLogNames.isBareUid(UID));
        assertTrue(KubeletLogNames.isBareUid(STATIC_UID));
        assertFalse(KubeletLogNames.isBareUid("default_web-0_" + UID));
        assertFalse(KubeletLogNames.isBareUid(UID.replace('-', '_')));
    }

    /**
     * Kubelet cuts {@code <pod>_<namespace>_<container>-<id>} to 251 bytes and adds {@code .log}:
     * a name cut in the id, or before it, is recognised as cut and gives nothing; an uncut name of
     * exactly 255 bytes still parses.
     */
    @Test
    void namesCutAt255Bytes() {
        String pod = "p".repeat(150);
        String namespace = "n".repeat(40);
        String container = "c".repeat(20);
        String full = pod + "_" + namespace + "_" + container + "-" + ID;
        assertTrue(full.length() > 251);
        String cut = full.substring(0, 251) + ".log"; // as logSymlink does
        assertEquals(255, cut.length());
        assertEquals(null, KubeletLogNames.containerLink(cut));
        assertTrue(KubeletLogNames.isTruncated(cut));
        String cutBeforeTheId = ("p".repeat(200) + "_" + namespace + "_" + "c".repeat(63) + "-" + ID).substring(0, 251)
                + ".log";
        assertTrue(KubeletLogNames.isTruncated(cutBeforeTheId));
        assertEquals(null, KubeletLogNames.containerLink(cutBeforeTheId));

        String exact = "p".repeat(255 - 4 - 64 - 1 - 1 - 1 - 1 - 1) + "_n_c-" + ID + ".log";
        assertEquals(255, exact.length());
        assertEquals(new ContainerLink("p".repeat(182), "n", "c", ID), KubeletLogNames.containerLink(exact));
        assertFalse(KubeletLogNames.isTruncated(exact), "a 255-byte name kubelet did not cut");
        assertEquals(null, KubeletLogNames.containerLink(exact.substring(0, 254) + "x.log"), "longer than 255");
    }

    /** Never throws, and whatever parses is made of valid names only, on any string. */
    @Test
    void neverThrowsOnAnyName() {
        Random random = new Random(16);
        String alphabet = "ab-_.0f9Z/é\u0000" + ID.substring(0, 4);
        for (int i = 0; i < 100_000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = random.nextInt(i % 10 == 0 ? 300 : 40);
            for (int j = 0; j < n; j++) {
                sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            if (random.nextBoolean()) {
                sb.append(random.nextBoolean() ? "-" + ID + ".log" : "_" + UID);
            }
            String s = sb.toString();
            PodDir d = KubeletLogNames.podDir(s);
            if (d != null) {
                assertEquals(s, d.namespace() + "_" + d.pod() + "_" + d.uid());
            }
            ContainerLink l = KubeletLogNames.containerLink(s);
            if (l != null) {
                assertEquals(s, l.pod() + "_" + l.namespace() + "_" + l.container() + "-" + l.containerId() + ".log");
                assertTrue(KubeletLogNames.isDnsLabel(l.container()) && KubeletLogNames.isDnsLabel(l.namespace()));
            }
            KubeletLogNames.isTruncated(s);
            KubeletLogNames.isBareUid(s);
        }
    }
}
