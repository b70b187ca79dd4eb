package io.cgscope.http;

import io.cgscope.testing.AgentProcess;
import io.cgscope.testing.Await;
import io.cgscope.testing.Browser;
import io.cgscope.testing.Cleanup;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.KernelTest.Requirement;
import io.cgscope.testing.TestCgroups;
import io.cgscope.testing.TestTls;
import io.cgscope.testing.Workloads;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The live page at {@code /} in a real headless Chromium, over the packaged agent with basic auth
 * on (every request the page makes needs the credentials), real BPF and real cgroups under a
 * unique test parent: a busy one (a child process spinning, moved into it), idle ones, and two
 * whose names are HTML with script. The assertions read the DOM. A screenshot of the page with
 * the test's tree and the details panel goes to {@code target/page-screenshot.png}.
 */
@KernelTest({Requirement.ROOT, Requirement.CGROUP2, Requirement.BPF, Requirement.BROWSER})
class PageBrowserIT {
    static final String GRAFANA = "http://grafana.example:3000";
    static final String IMG_PAYLOAD = "<img src=x onerror=alert(1)>";
    static final String SVG_PAYLOAD = "<svg onload=window.cgscopePwned=1>";
    static final String LATE_PAYLOAD = "<img src=y onerror=window.cgscopePwned=2>";
    static final String CONTAINER_ID = "4f1e9c2ab7d3" + "0".repeat(52);
    static final String CONTAINER = "kubepods.slice/kubepods-burstable.slice/"
            + "kubepods-burstable-pod3f2a1b4c_5d6e_4f70_8a9b_0c1d2e3f4a5b.slice/cri-containerd-" + CONTAINER_ID + ".scope";
    static final Path SCREENSHOT = Path.of("target", "page-screenshot.png");
    static final Path SCREENSHOT_DARK = Path.of("target", "page-screenshot-dark.png");
    /** Children of one cgroup the page renders before a "more" row (PAGE in cgscope.js). */
    static final int PAGE = 200;

    @TempDir
    static Path dir;
    static final Cleanup cleanup = new Cleanup();
    static AgentProcess agent;
    static TestCgroups cgroups;
    static String[] flags;
    static Browser browser;
    static String pageUrl;
    static long parentId;
    static Path busy;

    @BeforeAll
    static void start() throws Exception {
        Files.writeString(dir.resolve("web-config.yml"),
                "basic_auth_users:\n  prom: '" + TestTls.PROM_S3CRET_2Y + "'\n");
        flags = new String[] {"--web.config.file=" + dir.resolve("web-config.yml"), "--web.grafana-url=" + GRAFANA};
        agent = AgentProcess.start(flags);
        cleanup.push(() -> agent.close()); // the agent of the moment: a test restarts it
        cgroups = new TestCgroups();
        cleanup.push(cgroups);
        parentId = TestCgroups.id(cgroups.parent());
        busy = cgroups.create("busy.service");
        cgroups.create("web.slice/idle.service");
        cgroups.create(IMG_PAYLOAD);
        cgroups.create(SVG_PAYLOAD);
        cgroups.create(CONTAINER);
        Process spin = Workloads.spin(busy, -1);
        cleanup.push(spin::destroyForcibly);
        browser = new Browser(1400, 820);
        cleanup.push(browser);
        // Credentials in the URL: Chromium keeps them for the origin, as after a password prompt,
        // and sends them with the page's own requests (its fetches and its event stream).
        pageUrl = "http://prom:s3cret@127.0.0.1:" + agent.port() + "/";
    }

    @AfterAll
    static void stop() {
        cleanup.close();
    }

    // ---------------------------------------------------------------- tests

    @Test
    void thePageNeedsTheCredentialsAndSendsAStrictPolicy() throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> anonymous = http.send(request("/", null), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, anonymous.statusCode(), anonymous.body());
            assertFalse(anonymous.body().contains("<script"), "no page without credentials");
            for (String path : List.of("/", "/static/cgscope.js", "/static/cgscope.css", "/api/top?window=5s")) {
                HttpResponse<String> r = http.send(request(path, "prom:s3cret"), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), path + ": " + r.body());
                String csp = r.headers().firstValue("Content-Security-Policy").orElse("");
                assertTrue(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), path + ": " + csp);
                assertFalse(csp.contains("unsafe-inline") || csp.contains("unsafe-eval"), path + ": " + csp);
                assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(null), path);
                assertEquals("no-referrer", r.headers().firstValue("Referrer-Policy").orElse(null), path);
            }
            HttpResponse<String> page = http.send(request("/", "prom:s3cret"), HttpResponse.BodyHandlers.ofString());
            assertFalse(page.body().contains("<script>") || page.body().contains("style="),
                    "no inline script or style in the page");
        }
    }

    @Test
    void theTreeShowsTheTestCgroupsWithTheBusyOneFirst() {
        openWithParentExpanded();
        Await.until(Duration.ofSeconds(20), () -> {
            List<String> kids = childNames(parentId);
            return !kids.isEmpty() && kids.get(0).equals("busy.service")
                    && kids.containsAll(List.of("web.slice", IMG_PAYLOAD, SVG_PAYLOAD));
        }, () -> "the test parent's children, busy.service first: " + childNames(parentId));
        // Its CPU is shown, not zero.
        String cpu = text(TestCgroups.id(busy), ".pct");
        assertTrue(cpu.endsWith("%") && !cpu.equals("0%"), "busy.service CPU: " + cpu);
    }

    @Test
    void aCreatedCgroupAppearsWithinOneSecondAndARemovedOneTurnsDead() {
        openWithParentExpanded();
        // The page records when each row first appears (a MutationObserver), so the time measured
        // is the page's, not this test's polling.
        browser.js("window.cgscopeSeen = {};"
                + "new MutationObserver(() => document.querySelectorAll('#rows .row .name').forEach(n => {"
                + "  if (!(n.textContent in window.cgscopeSeen)) window.cgscopeSeen[n.textContent] = Date.now(); }))"
                + ".observe(document.getElementById('rows'), {childList: true, subtree: true, characterData: true});");
        long before = System.currentTimeMillis();
        Path fresh = cgroups.create("fresh.service");
        long freshId = TestCgroups.id(fresh);
        Await.until(Duration.ofSeconds(10), () -> seenAt("fresh.service") != null,
                () -> "fresh.service never appeared: " + childNames(parentId));
        long appearedAfter = seenAt("fresh.service") - before;
        assertTrue(appearedAfter < 1000, "fresh.service appeared " + appearedAfter + " ms after its mkdir");
        assertFalse(rowClass(freshId).contains("dead"));

        TestCgroups.remove(fresh);
        Await.until(Duration.ofSeconds(10), () -> rowClass(freshId).contains("dead"),
                () -> "fresh.service not dead: class " + rowClass(freshId));
        assertTrue(text(freshId, ".c-life").contains("–"), "born – died: " + text(freshId, ".c-life"));
    }

    @Test
    void theFilterShowsMatchesWithTheirAncestors() {
        openWithParentExpanded();
        String parentName = cgroups.parentPath();
        awaitChild("busy.service");
        WebElement filter = browser.driver().findElement(By.id("filter"));
        filter.sendKeys("idle.serv");
        Await.until(Duration.ofSeconds(5), () -> visibleNames().equals(List.of("/", parentName, "web.slice", "idle.service")),
                () -> "rows with filter idle.serv: " + visibleNames());
        filter.clear();
        filter.sendKeys("/" + parentName + "/bus");
        Await.until(Duration.ofSeconds(5), () -> visibleNames().equals(List.of("/", parentName, "busy.service")),
                () -> "rows with a prefix filter: " + visibleNames());
        filter.sendKeys(Keys.ESCAPE);
        Await.until(Duration.ofSeconds(5), () -> visibleNames().contains("web.slice") && visibleNames().contains("busy.service"),
                () -> "rows after Escape: " + visibleNames());
    }

    @Test
    void aContainerShowsItsWorkload() {
        openWithParentExpanded();
        browser.driver().findElement(By.id("filter")).sendKeys(CONTAINER_ID.substring(0, 12));
        Await.until(Duration.ofSeconds(10), () -> String.valueOf(browser.js(
                "const r = [...document.querySelectorAll('#rows .row')].find(r => r.querySelector('.name').textContent"
                        + " === 'cri-containerd-' + arguments[0] + '.scope'); return r && r.querySelector('.chip').textContent;",
                CONTAINER_ID)).equals("containerd 4f1e9c2ab7d3"), () -> "the container's workload chip: " + visibleNames());
    }

    @Test
    void kernelNamesAreShownAsTextAndRunNoScript() {
        openWithParentExpanded();
        browser.console(); // what was logged before this page
        cgroups.create(LATE_PAYLOAD); // by the event stream, not the snapshot
        Await.until(Duration.ofSeconds(10), () -> childNames(parentId).containsAll(List.of(IMG_PAYLOAD, SVG_PAYLOAD, LATE_PAYLOAD)),
                () -> "the payloads as names: " + childNames(parentId));
        // Selected, the details panel shows the name too.
        browser.driver().findElement(By.cssSelector(".row[data-id='" + TestCgroups.id(cgroups.parent().resolve(IMG_PAYLOAD))
                + "']")).click();
        Await.until(Duration.ofSeconds(5), () -> IMG_PAYLOAD.equals(browser.js(
                "const h = document.querySelector('#details h2'); return h && h.textContent;")),
                () -> "details of the payload cgroup");
        assertEquals(0L, browser.js("return document.querySelectorAll('#rows img, #rows svg, #details img, #details svg').length;"),
                "elements made from a name");
        assertNull(browser.js("return window.cgscopePwned === undefined ? null : String(window.cgscopePwned);"),
                "a payload ran");
        assertNull(browser.alertText(), "an alert opened");
        for (String line : browser.console()) {
            assertFalse(line.contains("Content Security Policy"), "a policy violation (something tried to run): " + line);
        }
    }

    @Test
    void theDetailsPanelShowsTheCgroupItsChildrenAndGrafanaLinks() {
        openWithParentExpanded();
        awaitChild("busy.service");
        long busyId = TestCgroups.id(busy);
        browser.driver().findElement(By.cssSelector(".row[data-id='" + busyId + "'] .name")).click();
        String path = cgroups.parentPath() + "/busy.service";
        Await.until(Duration.ofSeconds(10), () -> {
            Object json = browser.js("const p = document.querySelector('#details pre'); return p && p.textContent;");
            return json != null && json.toString().contains("\"id\": " + busyId);
        }, () -> "the /cgroup/<id> object in the details");
        assertEquals(path, browser.js("return document.querySelector('#details .path').textContent;"));
        Object href = browser.js("const a = [...document.querySelectorAll('#details a')].find(a => a.textContent === "
                + "'Cgroup dashboard'); return a && a.href;");
        assertEquals(GRAFANA + "/d/cgscope-cgroup/cgscope-cgroup?var-cgroup="
                + URLEncoder.encode(path, StandardCharsets.UTF_8).replace("+", "%20"), href);
        // The parent's details list its children.
        browser.driver().findElement(By.cssSelector(".row[data-id='" + parentId + "'] .name")).click();
        Await.until(Duration.ofSeconds(5), () -> String.valueOf(browser.js(
                "return [...document.querySelectorAll('#details .children a')].map(a => a.textContent).join('|');"))
                .contains("busy.service"), () -> "children in the details");
        browser.driver().findElement(By.cssSelector(".row[data-id='" + busyId + "'] .name")).click();
        Await.until(Duration.ofSeconds(5), () -> "busy.service".equals(browser.js(
                "return document.querySelector('#details h2').textContent;")), () -> "busy.service selected again");
        browser.screenshot(SCREENSHOT);
        assertTrue(Files.isRegularFile(SCREENSHOT));
        // The same in the dark (prefers-color-scheme), for a look.
        browser.driver().executeCdpCommand("Emulation.setEmulatedMedia", Map.of("features",
                List.of(Map.of("name", "prefers-color-scheme", "value", "dark"))));
        browser.screenshot(SCREENSHOT_DARK);
        browser.driver().executeCdpCommand("Emulation.setEmulatedMedia", Map.of("features", List.of()));
    }

    @Test
    void thePageFollowsTheAgentThroughARestart() throws Exception {
        openWithParentExpanded();
        awaitChild("busy.service");
        int port = agent.port();
        agent.close();
        Await.until(Duration.ofSeconds(10), () -> !"live".equals(connection()), () -> "the page did not notice");
        cgroups.create("while-down.service"); // no agent sees it happen: only the new one's start-up sweep
        agent = AgentProcess.startOn(port, flags);
        Await.until(Duration.ofSeconds(30), () -> childNames(parentId).contains("while-down.service"),
                () -> "the tree was not read again after the restart: " + childNames(parentId));
        Await.until(Duration.ofSeconds(10), () -> "live".equals(connection()), () -> "stream: " + connection());
        cgroups.create("after-restart.service");
        Await.until(Duration.ofSeconds(5), () -> childNames(parentId).contains("after-restart.service"),
                () -> "not live after the restart: " + childNames(parentId));
    }

    @Test
    void onlyExpandedLevelsAreInTheDom() {
        Path many = cgroups.create("many.slice");
        for (int i = 0; i < PAGE + 5; i++) {
            cgroups.create("many.slice/unit-" + i + ".service");
        }
        long manyId = TestCgroups.id(many);
        openWithParentExpanded();
        awaitChild("many.slice");
        assertEquals(0L, browser.js("return [...document.querySelectorAll('#rows .row .name')]"
                + ".filter(n => n.textContent.startsWith('unit-')).length;"), "children of a folded level in the DOM");
        browser.driver().findElement(By.cssSelector(".row[data-id='" + manyId + "'] .twisty")).click();
        Await.until(Duration.ofSeconds(5), () -> childNames(manyId).size() == PAGE,
                () -> "rows of the expanded level: " + childNames(manyId).size());
        WebElement more = browser.driver().findElement(By.cssSelector("#rows .row.more"));
        assertTrue(more.getText().contains("5 more"), more.getText());
        more.click();
        Await.until(Duration.ofSeconds(5), () -> childNames(manyId).size() == PAGE + 5,
                () -> "rows after \"more\": " + childNames(manyId).size());
        browser.driver().findElement(By.cssSelector(".row[data-id='" + manyId + "'] .twisty")).click();
        Await.until(Duration.ofSeconds(5), () -> childNames(manyId).isEmpty(), () -> "folded again");
        TestCgroups.removeTree(many);
    }

    // ---------------------------------------------------------------- helpers

    private static HttpRequest request(String path, String credentials) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port() + path))
                .timeout(Duration.ofSeconds(20));
        if (credentials != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                    credentials.getBytes(StandardCharsets.UTF_8)));
        }
        return b.build();
    }

    /** Loads the page afresh and expands the test parent (a child of the root, shown at first). */
    private static void openWithParentExpanded() {
        browser.driver().get(pageUrl);
        Await.until(Duration.ofSeconds(20), () -> rowClass(parentId) != null,
                () -> "the test parent's row never appeared: " + visibleNames());
        browser.driver().findElement(By.cssSelector(".row[data-id='" + parentId + "'] .twisty")).click();
        Await.until(Duration.ofSeconds(5), () -> "true".equals(String.valueOf(browser.js(
                "const r = document.querySelector(\".row[data-id='" + parentId + "']\");"
                        + " return r && r.getAttribute('aria-expanded');"))), () -> "the test parent did not expand");
    }

    private static void awaitChild(String name) {
        Await.until(Duration.ofSeconds(10), () -> childNames(parentId).contains(name),
                () -> name + " not among " + childNames(parentId));
    }

    /** The names of the rows shown, in order. */
    @SuppressWarnings("unchecked")
    private static List<String> visibleNames() {
        return (List<String>) browser.js( // the first 40: enough to say what went wrong
                "return [...document.querySelectorAll('#rows .row[data-id] .name')].slice(0, 40).map(n => n.textContent);");
    }

    /** The names of the rows right below a row (its children as shown), in order. */
    @SuppressWarnings("unchecked")
    private static List<String> childNames(long id) {
        Object names = browser.js(
                "const rows = [...document.querySelectorAll('#rows .row[data-id]')];"
                        + "const i = rows.findIndex(r => r.dataset.id === arguments[0]);"
                        + "if (i < 0) return [];"
                        + "const level = Number(rows[i].getAttribute('aria-level'));"
                        + "const out = [];"
                        + "for (let j = i + 1; j < rows.length; j++) {"
                        + "  const l = Number(rows[j].getAttribute('aria-level'));"
                        + "  if (l <= level) break;"
                        + "  if (l === level + 1) out.push(rows[j].querySelector('.name').textContent);"
                        + "}"
                        + "return out;", Long.toString(id));
        return names == null ? List.of() : new ArrayList<>((List<String>) names);
    }

    private static String rowClass(long id) {
        Object c = browser.js("const r = document.querySelector(\".row[data-id='" + id + "']\"); return r && r.className;");
        return c == null ? null : c.toString();
    }

    private static String text(long id, String selector) {
        return String.valueOf(browser.js("const r = document.querySelector(\".row[data-id='" + id + "'] " + selector
                + "\"); return r && r.textContent;"));
    }

    private static String connection() {
        return String.valueOf(browser.js("return document.getElementById('conn').textContent;"));
    }

    private static Long seenAt(String name) {
        Object seen = browser.js("return window.cgscopeSeen && window.cgscopeSeen[arguments[0]];", name);
        return seen == null ? null : ((Number) seen).longValue();
    }
}
