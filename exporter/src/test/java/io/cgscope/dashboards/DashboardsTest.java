package io.cgscope.dashboards;

import io.cgscope.dashboards.Dashboard.Panel;
import io.cgscope.dashboards.Dashboard.Target;
import io.cgscope.dashboards.Dashboard.Variable;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The structure of the dashboards, provisioning files and alert rules, without Grafana (which these
 * machines cannot install): what Grafana's JSON model needs and what the project promises. Their
 * PromQL is checked against a real Prometheus in {@link DashboardsIT}.
 */
class DashboardsTest {

    @Test
    void dashboardsAreCurrentGrafanaModelsWithStableUids() {
        Set<String> uids = new HashSet<>();
        for (Dashboard d : Dashboard.all()) {
            JsonObject j = d.json();
            assertTrue(j.getInteger("schemaVersion", 0) >= 39, d.name() + ": schemaVersion >= 39");
            assertTrue(d.uid() != null && d.uid().matches("[a-zA-Z0-9_-]{1,40}"), d.name() + ": a stable uid of at most 40 characters");
            assertTrue(uids.add(d.uid()), d.name() + ": uid " + d.uid() + " is unique");
            assertTrue(j.getValue("id") == null, d.name() + ": no database id (Grafana assigns it on import)");
            assertFalse(j.getString("title", "").isBlank(), d.name() + ": a title");
            assertFalse(j.getString("description", "").isBlank(), d.name() + ": a description");
            assertTrue(j.getJsonArray("tags", new JsonArray()).contains("cgscope"), d.name() + ": tagged cgscope");
            assertFalse(j.containsKey("__inputs"), d.name() + ": no import inputs: the data source is a variable");
        }
        assertEquals(Set.of("cgscope-overview", "cgscope-cgroup", "cgscope-pod"), uids);
    }

    @Test
    void variablesAreDatasourceInstanceNamespacePodAndCgroup() {
        for (Dashboard d : Dashboard.all()) {
            Variable ds = d.variable("datasource").orElseThrow(() -> new AssertionError(d.name() + ": no datasource variable"));
            assertEquals("datasource", ds.type(), d.name() + ": $datasource is a data source variable");
            assertEquals("prometheus", ds.json().getString("query"), d.name() + ": $datasource lists Prometheus data sources");

            Variable instance = d.variable("instance").orElseThrow(() -> new AssertionError(d.name() + ": no instance variable"));
            assertEquals("query", instance.type());
            assertTrue(query(instance).matches("label_values\\(cgscope_\\w+.*, instance\\)"), d.name() + ": $instance from label_values: " + query(instance));

            // the workload: namespaces and pods of the selected instances, from cgscope_cgroup_info
            Variable namespace = d.variable("namespace").orElseThrow(() -> new AssertionError(d.name() + ": no namespace variable"));
            assertEquals("label_values(cgscope_cgroup_info{instance=~\"$instance\"}, namespace)", query(namespace), d.name());
            Variable pod = d.variable("pod").orElseThrow(() -> new AssertionError(d.name() + ": no pod variable"));
            assertEquals("label_values(cgscope_cgroup_info{instance=~\"$instance\", namespace=~\"$namespace\"}, pod)", query(pod),
                    d.name());
            List<Variable> checked = new ArrayList<>(List.of(instance, namespace, pod));

            Optional<Variable> cgroup = d.variable("cgroup");
            assertEquals(!d.uid().equals("cgscope-pod"), cgroup.isPresent(), d.name() + ": a cgroup variable, but on the pod dashboard");
            if (cgroup.isPresent()) {
                assertEquals("query", cgroup.get().type());
                assertTrue(query(cgroup.get()).matches("label_values\\(cgscope_cgroup_\\w+\\{instance=~\"\\$instance\", namespace=~\"\\$namespace\", pod=~\"\\$pod\"}, cgroup\\)"),
                        d.name() + ": $cgroup from label_values(..., cgroup) of the selected instances, namespaces and pods: " + query(cgroup.get()));
                checked.add(cgroup.get());
            }
            for (Variable v : checked) {
                assertTrue(v.regexFormatted(), d.name() + ": $" + v.name() + " is multi-value, so Grafana escapes it as a regex");
                assertEquals(Dashboard.DATASOURCE_VARIABLE, v.json().getJsonObject("datasource"), d.name() + ": $" + v.name() + " queries $datasource");
                assertFalse(v.json().getString("description", "").isBlank(), d.name() + ": $" + v.name() + " has a description");
                if (v.includeAll()) {
                    assertEquals(".*", v.allValue(), d.name() + ": All of $" + v.name() + " is .*, not a list of every value");
                }
            }
        }
    }

    /** Every selector of a per-cgroup family honours the namespace and pod variables. */
    @Test
    void everyCgroupSelectorFollowsNamespaceAndPod() {
        for (Dashboard d : Dashboard.all()) {
            for (Target t : d.targets()) {
                Matcher m = Pattern.compile("cgscope_cgroup_(?!unresolved)\\w+\\{([^}]*)}").matcher(t.expr());
                while (m.find()) {
                    assertTrue(m.group(1).contains("namespace=~\"$namespace\", pod=~\"$pod\""),
                            d.name() + " '" + t.panel().title() + "': " + m.group());
                }
            }
        }
    }

    private static String query(Variable v) {
        Object q = v.json().getValue("query");
        return q instanceof JsonObject o ? o.getString("query") : (String) q;
    }

    @Test
    void noDatasourceIsHardCoded() {
        for (Dashboard d : Dashboard.all()) {
            List<String> bad = new ArrayList<>();
            walk(d.json(), "$", (path, key, value) -> {
                if (!key.equals("datasource") || path.startsWith("$.annotations")) {
                    return;
                }
                if (!(value instanceof JsonObject o) || !o.equals(Dashboard.DATASOURCE_VARIABLE)) {
                    bad.add(path + ": " + value);
                }
            });
            assertEquals(List.of(), bad, d.name() + ": every datasource is {type: prometheus, uid: ${datasource}}");
        }
    }

    @Test
    void panelsHaveUniqueIdsAndDoNotOverlap() {
        for (Dashboard d : Dashboard.all()) {
            Set<Integer> ids = new HashSet<>();
            List<Panel> placed = new ArrayList<>();
            for (Panel p : d.panels()) {
                assertTrue(p.id() > 0, d.name() + ": panel '" + p.title() + "' has an id");
                assertTrue(ids.add(p.id()), d.name() + ": panel id " + p.id() + " ('" + p.title() + "') is unique");
                JsonObject g = p.json().getJsonObject("gridPos");
                assertNotNull(g, d.name() + ": panel " + p.id() + " has a gridPos");
                int x = g.getInteger("x"), y = g.getInteger("y"), w = g.getInteger("w"), h = g.getInteger("h");
                assertTrue(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 24, d.name() + ": panel " + p.id() + " fits the 24-column grid: " + g);
                if (p.isRow()) {
                    assertEquals(24, w, d.name() + ": row " + p.id() + " spans the grid");
                    assertEquals(1, h, d.name() + ": row " + p.id() + " is one unit high");
                }
                for (Panel q : placed) {
                    JsonObject o = q.json().getJsonObject("gridPos");
                    boolean overlap = x < o.getInteger("x") + o.getInteger("w") && o.getInteger("x") < x + w
                            && y < o.getInteger("y") + o.getInteger("h") && o.getInteger("y") < y + h;
                    assertFalse(overlap, d.name() + ": panel " + p.id() + " " + g + " overlaps panel " + q.id() + " " + o);
                }
                placed.add(p);
            }
        }
    }

    @Test
    void everyPanelHasTheDatasourceVariableAUnitAndADescription() {
        for (Dashboard d : Dashboard.all()) {
            for (Panel p : d.panels()) {
                if (p.isRow()) {
                    continue;
                }
                String where = d.name() + ": panel " + p.id() + " '" + p.title() + "'";
                assertFalse(p.title().isBlank(), where + " has a title");
                assertFalse(p.json().getString("description", "").isBlank(), where + " has a description");
                assertEquals(Dashboard.DATASOURCE_VARIABLE, p.json().getJsonObject("datasource"), where + ": datasource is the variable");
                String unit = p.json().getJsonObject("fieldConfig").getJsonObject("defaults").getString("unit", "");
                assertFalse(unit.isBlank(), where + " sets a unit");
                if (p.type().equals("heatmap")) {
                    assertEquals("s", p.json().getJsonObject("options").getJsonObject("yAxis").getString("unit"), where + ": the y axis is in seconds");
                    assertEquals(Boolean.FALSE, p.json().getJsonObject("options").getBoolean("calculate"), where + ": buckets come from the histogram, not recalculated");
                }
                assertFalse(p.targets().isEmpty(), where + " has targets");
                Set<String> refIds = new HashSet<>();
                for (Target t : p.targets()) {
                    assertTrue(refIds.add(t.refId()), where + ": refId " + t.refId() + " is unique");
                    assertFalse(t.expr() == null || t.expr().isBlank(), where + " " + t.refId() + " has an expression");
                    assertEquals(Dashboard.DATASOURCE_VARIABLE, t.json().getJsonObject("datasource"), where + " " + t.refId() + ": datasource is the variable");
                    assertFalse(t.legendFormat().isBlank(), where + " " + t.refId() + " has a legend");
                }
            }
        }
    }

    private static final Pattern RANGE = Pattern.compile("\\[([^\\]]*)]");
    private static final Pattern RANGE_FUNCTION = Pattern.compile("\\b(rate|irate|increase|delta|idelta|deriv|\\w+_over_time)\\s*\\(");

    @Test
    void everyRangeIsTheRateInterval() {
        for (Dashboard d : Dashboard.all()) {
            for (Target t : d.targets()) {
                String bare = Dashboard.withoutStrings(t.expr());
                Matcher m = RANGE.matcher(bare);
                int ranges = 0;
                while (m.find()) {
                    assertEquals("$__rate_interval", m.group(1), d.name() + " '" + t.panel().title() + "': range [" + m.group(1) + "] in " + t.expr());
                    ranges++;
                }
                Matcher f = RANGE_FUNCTION.matcher(bare);
                int functions = 0;
                while (f.find()) {
                    functions++;
                }
                assertEquals(functions, ranges, d.name() + " '" + t.panel().title() + "': each range function over [$__rate_interval]: " + t.expr());
            }
        }
    }

    @Test
    void everyVariableReferenceIsDefinedAndInterpolates() {
        for (Dashboard d : Dashboard.all()) {
            Set<String> defined = new HashSet<>(Dashboard.BUILT_INS.keySet());
            d.variables().forEach(v -> defined.add(v.name()));
            for (Target t : d.targets()) {
                for (String name : Dashboard.references(t.expr())) {
                    assertTrue(defined.contains(name), d.name() + ": $" + name + " in " + t.expr());
                }
                Map<String, String> values = new HashMap<>();
                values.put("instance", "127.0.0.1:9486");
                values.put("cgroup", "system.slice/nginx.service");
                values.put("namespace", "shop");
                values.put("pod", "cart-7d9f-x2k9l");
                String q = d.interpolate(t.expr(), values);
                assertFalse(q.contains("$"), d.name() + ": interpolated completely: " + q);
                assertTrue(q.contains("system\\\\.slice/nginx\\\\.service") || !t.expr().contains("$cgroup"),
                        d.name() + ": $cgroup is escaped as Grafana does for a regex: " + q);
            }
        }
    }

    @Test
    void grafanaEscapesLikeThePrometheusDatasource() {
        assertEquals("a\\\\.b/c\\\\(d\\\\)", Dashboard.specialRegexEscape("a.b/c(d)"));
        assertEquals("x\\\\\\\\x2d", Dashboard.specialRegexEscape("x\\x2d"));
        assertEquals("10", Dashboard.regularEscape("10"));
    }

    @Test
    void theOverviewLinksToTheCgroupDashboard() {
        Dashboard overview = Dashboard.load("cgscope-overview.json");
        Dashboard detail = Dashboard.load("cgscope-cgroup.json");
        String toDetail = "/d/" + detail.uid() + "/";
        assertTrue(overview.json().getJsonArray("links").stream()
                        .anyMatch(l -> ((JsonObject) l).getString("url", "").startsWith(toDetail)),
                "the overview has a dashboard link to " + toDetail);
        int perCgroup = 0;
        for (Panel p : overview.panels()) {
            boolean showsCgroups = p.targets().stream().anyMatch(t -> t.legendFormat().contains("{{cgroup}}"));
            if (!showsCgroups) {
                continue;
            }
            perCgroup++;
            JsonArray links = p.json().getJsonObject("fieldConfig").getJsonObject("defaults").getJsonArray("links", new JsonArray());
            assertTrue(links.stream().map(l -> ((JsonObject) l).getString("url", ""))
                            .anyMatch(u -> u.startsWith(toDetail) && u.contains("var-cgroup=${__field.labels.cgroup")),
                    "overview panel '" + p.title() + "' shows cgroups and links each one to the cgroup dashboard: " + links);
        }
        assertTrue(perCgroup >= 6, "the overview has its per-cgroup panels: " + perCgroup);
        assertTrue(detail.json().getJsonArray("links").stream()
                .anyMatch(l -> ((JsonObject) l).getString("url", "").startsWith("/d/" + overview.uid() + "/")), "and back");
    }

    /**
     * The overview's per-pod panels link each pod to the pod dashboard, which shows containers and
     * links back; the pod dashboard shows every per-cgroup family per container.
     */
    @Test
    void theOverviewAndThePodDashboardLinkEachOther() {
        Dashboard overview = Dashboard.load("cgscope-overview.json");
        Dashboard pod = Dashboard.load("cgscope-pod.json");
        String toPod = "/d/" + pod.uid() + "/";
        assertTrue(overview.json().getJsonArray("links").stream()
                .anyMatch(l -> ((JsonObject) l).getString("url", "").startsWith(toPod)), "the overview links the pod dashboard");
        int perPod = 0;
        for (Panel p : overview.panels()) {
            if (p.targets().stream().noneMatch(t -> t.legendFormat().contains("{{pod}}"))) {
                continue;
            }
            perPod++;
            JsonArray links = p.json().getJsonObject("fieldConfig").getJsonObject("defaults").getJsonArray("links", new JsonArray());
            assertTrue(links.stream().map(l -> ((JsonObject) l).getString("url", "")).anyMatch(u -> u.startsWith(toPod)
                            && u.contains("var-namespace=${__field.labels.namespace") && u.contains("var-pod=${__field.labels.pod")),
                    "overview panel '" + p.title() + "' links each pod to the pod dashboard: " + links);
        }
        assertTrue(perPod >= 3, "the overview's by-pod row: " + perPod);
        assertTrue(overview.panels().stream().anyMatch(p -> p.isRow() && p.title().equals("By pod")), "a By pod row");
        assertTrue(pod.json().getJsonArray("links").stream()
                .anyMatch(l -> ((JsonObject) l).getString("url", "").startsWith("/d/" + overview.uid() + "/")), "and back");
        Set<String> perContainer = new HashSet<>();
        for (Target t : pod.targets()) {
            if (t.legendFormat().contains("{{container}}")) {
                assertTrue(t.expr().contains("container"), t.expr());
                Dashboard.metricNames(t.expr()).forEach(perContainer::add);
            }
        }
        assertTrue(perContainer.containsAll(Set.of("cgscope_cgroup_cpu_seconds_total", "cgscope_cgroup_cpu_samples_total",
                "cgscope_cgroup_context_switches_total", "cgscope_cgroup_runqueue_latency_seconds_bucket")),
                "the pod's containers' CPU, samples, switches and latency: " + perContainer);
    }

    @Test
    void provisioningLoadsTheDashboardsFromAFolder() throws IOException {
        Path dir = Dashboard.DIR.resolve("provisioning");
        Map<String, Object> dashboards = yaml(dir.resolve("dashboards/cgscope.yml"));
        assertEquals(1, dashboards.get("apiVersion"));
        List<Map<String, Object>> providers = list(dashboards.get("providers"));
        assertEquals(1, providers.size());
        Map<String, Object> provider = providers.getFirst();
        assertEquals("file", provider.get("type"));
        assertEquals("cgscope", provider.get("folder"));
        @SuppressWarnings("unchecked")
        Map<String, Object> options = (Map<String, Object>) provider.get("options");
        assertTrue(String.valueOf(options.get("path")).startsWith("/"), "an absolute folder: " + options);

        Map<String, Object> datasources = yaml(dir.resolve("datasources/prometheus.yml"));
        assertEquals(1, datasources.get("apiVersion"));
        List<Map<String, Object>> list = list(datasources.get("datasources"));
        assertEquals(1, list.size());
        assertEquals("prometheus", list.getFirst().get("type"));
        assertEquals("proxy", list.getFirst().get("access"));
        assertTrue(String.valueOf(list.getFirst().get("url")).startsWith("http"));
        // the dashboards must work with this data source or any other: they never name its uid
        for (Dashboard d : Dashboard.all()) {
            assertFalse(Files.readString(d.file()).contains(String.valueOf(list.getFirst().get("uid"))),
                    d.name() + " does not name the provisioned data source");
        }
    }

    @Test
    void alertRulesAreComplete() throws IOException {
        Map<String, Object> rules = yaml(Dashboard.DIR.resolve("alerts.yml"));
        Set<String> alerts = new HashSet<>();
        for (Map<String, Object> group : list(rules.get("groups"))) {
            for (Map<String, Object> rule : list(group.get("rules"))) {
                String name = (String) rule.get("alert");
                assertNotNull(name, "an alerting rule: " + rule);
                assertTrue(alerts.add(name), name + " is unique");
                @SuppressWarnings("unchecked")
                Map<String, Object> labels = (Map<String, Object>) rule.get("labels");
                assertTrue(Set.of("critical", "warning", "info").contains(labels.get("severity")), name + ": a severity");
                @SuppressWarnings("unchecked")
                Map<String, Object> annotations = (Map<String, Object>) rule.get("annotations");
                assertNotNull(annotations.get("summary"), name + ": a summary");
                assertNotNull(annotations.get("description"), name + ": a description");
            }
        }
        for (String must : List.of("CgscopeExporterDown", "CgscopeIndexOverflowing", "CgscopeIndexResyncingRepeatedly",
                "CgscopeBpfMapFull", "CgscopeBpfProgramDown", "CgscopeUnresolvedIdsGrowing")) {
            assertTrue(alerts.contains(must), "alerts.yml has " + must);
        }
        // every alert has a promtool unit test
        String tests = Files.readString(Dashboard.DIR.resolve("alerts.test.yml"));
        for (String alert : alerts) {
            assertTrue(tests.contains("alertname: " + alert + "\n") || tests.contains("alertname: " + alert + ","),
                    alert + " is tested in alerts.test.yml");
        }
    }

    private static Map<String, Object> yaml(Path file) throws IOException {
        return new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object o) {
        if (!(o instanceof List<?> l)) {
            fail("a list: " + o);
            return List.of();
        }
        return (List<Map<String, Object>>) l;
    }

    interface Visitor {
        void visit(String path, String key, Object value);
    }

    private static void walk(Object node, String path, Visitor v) {
        if (node instanceof JsonObject o) {
            for (String key : o.fieldNames()) {
                Object value = o.getValue(key);
                v.visit(path + "." + key, key, value);
                walk(value, path + "." + key, v);
            }
        } else if (node instanceof JsonArray a) {
            for (int i = 0; i < a.size(); i++) {
                walk(a.getValue(i), path + "[" + i + "]", v);
            }
        }
    }
}
