package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Issue 18: every metric and label the Grafana dashboard (deploy/grafana/pgwarden.json) queries is one a running
 * pgwarden exposes, so no panel stays empty because of a renamed or misspelt series or label. The proxy first sees traffic and a
 * backend terminated by an administrator, so the families that appear only after an event are there too.
 */
class GrafanaDashboardTest {

    private static final Path DASHBOARD = Path.of("..", "deploy", "grafana", "pgwarden.json");
    private static final Pattern METRIC = Pattern.compile("\\bpgwarden_[a-zA-Z0-9_]+");
    private static final Pattern TYPE = Pattern.compile("(?m)^# TYPE (\\S+) (\\S+)$");
    /** metric{matchers}. */
    private static final Pattern SELECTOR = Pattern.compile("(pgwarden_[a-zA-Z0-9_]+)\\{([^}]*)}");
    /** by (labels) (metric or by (labels) (rate(metric ...: the labels grouped over a single metric. */
    private static final Pattern GROUPING =
            Pattern.compile("by \\(([^)]*)\\) \\((?:\\w+\\()?(pgwarden_[a-zA-Z0-9_]+)");
    /** Labels Prometheus adds when it scrapes (see the README's scrape config), not pgwarden. */
    private static final Set<String> SCRAPE_LABELS = Set.of("pod", "namespace", "instance", "job");
    private static final Pattern SAMPLE = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]");

    private static final String YAML = """
            listen:
              host: 127.0.0.1
              port: 0
            databases:
              appdb:
                host: 127.0.0.1
                port: ${PG_PORT}
            users:
              app:
                password: ${APP_PASSWORD}
            admin:
              http:
                port: 0
            """;

    @Test
    void everyMetricAndLabelTheDashboardQueriesIsExposedByARunningProxy() throws Exception {
        Set<String> used = metricsUsed();
        assertThat(used).as("metrics the dashboard queries").hasSizeGreaterThan(10);
        try (TestProxy proxy = TestProxy.fromYaml(() -> YAML, TestPostgres.shared().port())) {
            String url = "http://127.0.0.1:" + proxy.application().httpAddress().getPort() + "/metrics";
            try (Connection client = proxy.connect(); Statement s = client.createStatement()) {
                int pid;
                try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                    rs.next();
                    pid = rs.getInt(1);
                }
                try (Connection admin = TestPostgres.shared().superuser(); Statement a = admin.createStatement()) {
                    a.execute("SELECT pg_terminate_backend(" + pid + ")");
                }
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> scrape(url).contains("pgwarden_backend_losses_total{"));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> scrape(url).contains("pgwarden_client_closes_total{"));
            String exposition = scrape(url);
            Set<String> exposed = exposedNames(exposition);
            List<String> missing = new ArrayList<>(used);
            missing.removeAll(exposed);
            assertThat(missing).as("dashboard metrics missing from /metrics, which has %s", new TreeSet<>(exposed))
                    .isEmpty();

            // A label the series lack would make a by() or a {label="..."} panel silently empty.
            Map<String, Set<String>> labels = labelsByName(exposition);
            for (String query : queries()) {
                Matcher selector = SELECTOR.matcher(query);
                while (selector.find()) {
                    for (String label : labelNames(selector.group(2))) {
                        assertThat(labels.getOrDefault(selector.group(1), Set.of()))
                                .as("label %s of %s in %s", label, selector.group(1), query).contains(label);
                    }
                }
                Matcher grouping = GROUPING.matcher(query);
                while (grouping.find()) {
                    for (String label : grouping.group(1).split("\\s*,\\s*")) {
                        if (!SCRAPE_LABELS.contains(label.strip())) {
                            assertThat(labels.getOrDefault(grouping.group(2), Set.of()))
                                    .as("by (%s) over %s in %s", label, grouping.group(2), query)
                                    .contains(label.strip());
                        }
                    }
                }
            }
        }
    }

    private static List<String> labelNames(String matchers) {
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("(\\w+)\\s*(?:=~|!~|!=|=)").matcher(matchers);
        while (m.find()) {
            if (!SCRAPE_LABELS.contains(m.group(1))) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    /** Each series name with the label names its samples carry. */
    private static Map<String, Set<String>> labelsByName(String exposition) {
        Map<String, Set<String>> labels = new HashMap<>();
        Matcher sample = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{([^}]*)})?\\s").matcher(exposition);
        while (sample.find()) {
            Set<String> names = labels.computeIfAbsent(sample.group(1), k -> new TreeSet<>());
            if (sample.group(2) != null) {
                Matcher label = Pattern.compile("(\\w+)=\"").matcher(sample.group(2));
                while (label.find()) {
                    names.add(label.group(1));
                }
            }
        }
        return labels;
    }

    private static List<String> queries() throws Exception {
        List<String> queries = new ArrayList<>();
        collect(new Yaml().load(Files.readString(DASHBOARD)), queries);
        return queries;
    }

    /** Every series name in the panels' expressions and in the template variables' queries. */
    private static Set<String> metricsUsed() throws Exception {
        Set<String> names = new TreeSet<>();
        for (String query : queries()) {
            Matcher m = METRIC.matcher(query);
            while (m.find()) {
                names.add(m.group());
            }
        }
        return names;
    }

    private static void collect(Object node, List<String> queries) {
        if (node instanceof Map<?, ?> map) {
            map.forEach((key, value) -> {
                if (value instanceof String text && (key.equals("expr") || key.equals("query")
                        || key.equals("definition"))) {
                    queries.add(text);
                } else {
                    collect(value, queries);
                }
            });
        } else if (node instanceof List<?> list) {
            list.forEach(item -> collect(item, queries));
        }
    }

    /**
     * The names PromQL can select: each sample's name, and each declared family, with the _bucket, _count and
     * _sum series of a histogram that has no observation yet.
     */
    private static Set<String> exposedNames(String exposition) {
        Set<String> names = new TreeSet<>();
        Matcher samples = SAMPLE.matcher(exposition);
        while (samples.find()) {
            names.add(samples.group(1));
        }
        Map<String, String> types = new HashMap<>();
        Matcher declared = TYPE.matcher(exposition);
        while (declared.find()) {
            types.put(declared.group(1), declared.group(2));
        }
        types.forEach((name, type) -> {
            names.add(name);
            if (type.equals("histogram")) {
                names.addAll(List.of(name + "_bucket", name + "_count", name + "_sum"));
            }
        });
        return names;
    }

    private static String scrape(String url) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }
}
