package io.pgwarden;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.ProxyConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Issue 18: the manifests under deploy/kubernetes/ hang together. kubectl cannot validate without a cluster here
 * and kubeconform does not install from the registries reachable here, so this is the schema check: the kinds and
 * API versions, the fields a typo would drop silently (selectors, named ports, probes), and that the ConfigMap's
 * pgwarden.yaml loads with the Secret's values and listens where the pod's ports and probes look.
 */
class KubernetesManifestsTest {

    private static final Path DIR = Path.of("..", "deploy", "kubernetes");

    private static Map<String, Map<String, Object>> byKind() throws Exception {
        Map<String, Map<String, Object>> kinds = new HashMap<>();
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                for (Object doc : new Yaml().loadAll(Files.readString(file))) {
                    Map<String, Object> manifest = map(doc);
                    String kind = (String) manifest.get("kind");
                    assertThat(kinds.put(kind, manifest)).as("one %s", kind).isNull();
                }
            }
        }
        return kinds;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        assertThat(o).isInstanceOf(List.class);
        return (List<Object>) o;
    }

    private static Object at(Map<String, Object> root, String path) {
        Object node = root;
        for (String key : path.split("\\.")) {
            node = map(node).get(key);
            assertThat(node).as(path).isNotNull();
        }
        return node;
    }

    private static String pgwardenYaml(Map<String, Map<String, Object>> kinds) {
        Object yaml = map(at(kinds.get("ConfigMap"), "data")).get("pgwarden.yaml");
        assertThat(yaml).as("ConfigMap data pgwarden.yaml").isInstanceOf(String.class);
        return (String) yaml;
    }

    private static Map<String, Object> container(Map<String, Object> deployment) {
        List<Object> containers = list(at(deployment, "spec.template.spec.containers"));
        assertThat(containers).hasSize(1);
        return map(containers.get(0));
    }

    private static Map<String, Integer> containerPorts(Map<String, Object> container) {
        Map<String, Integer> ports = new HashMap<>();
        list(container.get("ports")).forEach(p -> ports.put((String) map(p).get("name"),
                (Integer) map(p).get("containerPort")));
        return ports;
    }

    private static void assertSelects(Map<String, Object> selector, Map<String, Object> podLabels, String who) {
        assertThat(selector).as("%s selector", who).isNotEmpty();
        assertThat(podLabels).as("pod labels selected by %s", who).containsAllEntriesOf(selector);
    }

    @Test
    void everyManifestHasItsKindApiVersionAndName() throws Exception {
        Map<String, Map<String, Object>> kinds = byKind();
        assertThat(kinds).containsOnlyKeys("Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget",
                "Kustomization");
        Map<String, String> versions = Map.of("Deployment", "apps/v1", "Service", "v1", "ConfigMap", "v1",
                "Secret", "v1", "PodDisruptionBudget", "policy/v1",
                "Kustomization", "kustomize.config.k8s.io/v1beta1");
        versions.forEach((kind, version) -> assertThat(kinds.get(kind).get("apiVersion")).as(kind).isEqualTo(version));
        kinds.forEach((kind, manifest) -> {
            if (!kind.equals("Kustomization")) {
                assertThat((String) at(manifest, "metadata.name")).as(kind).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
            }
        });
        try (Stream<Path> files = Files.list(DIR)) {
            assertThat(list(kinds.get("Kustomization").get("resources"))).containsExactlyInAnyOrderElementsOf(
                    files.map(f -> f.getFileName().toString())
                            .filter(f -> f.endsWith(".yaml") && !f.equals("kustomization.yaml")).toList());
        }
    }

    @Test
    void theServiceThePdbAndTheDeploymentSelectThePodsAndTheServiceReachesTheProxyPort() throws Exception {
        Map<String, Map<String, Object>> kinds = byKind();
        Map<String, Object> deployment = kinds.get("Deployment");
        Map<String, Object> podLabels = map(at(deployment, "spec.template.metadata.labels"));
        assertSelects(map(at(deployment, "spec.selector.matchLabels")), podLabels, "Deployment");
        assertSelects(map(at(kinds.get("Service"), "spec.selector")), podLabels, "Service");
        assertSelects(map(at(kinds.get("PodDisruptionBudget"), "spec.selector.matchLabels")), podLabels, "PDB");

        Map<String, Integer> ports = containerPorts(container(deployment));
        List<Object> servicePorts = list(at(kinds.get("Service"), "spec.ports"));
        assertThat(servicePorts).hasSize(1);
        assertThat(ports).containsKey((String) map(servicePorts.get(0)).get("targetPort"));
        assertThat(map(servicePorts.get(0)).get("port")).isEqualTo(6432);

        Map<String, Object> annotations = map(at(deployment, "spec.template.metadata.annotations"));
        assertThat(annotations).containsEntry("prometheus.io/scrape", "true")
                .containsEntry("prometheus.io/path", "/metrics")
                .containsEntry("prometheus.io/port", String.valueOf(ports.get("http")));
        // Zero unavailable during a rollout, and the PDB lets a node drain evict a replica at a time.
        assertThat(at(deployment, "spec.strategy.rollingUpdate.maxUnavailable")).isEqualTo(0);
        assertThat((Integer) at(deployment, "spec.replicas")).isGreaterThan(1);
    }

    @Test
    void theConfigMapLoadsWithTheSecretsValuesAndListensWhereThePortsAndProbesLook() throws Exception {
        Map<String, Map<String, Object>> kinds = byKind();
        Map<String, Object> deployment = kinds.get("Deployment");
        Map<String, Object> container = container(deployment);
        Map<String, Object> secretData = map(at(kinds.get("Secret"), "stringData"));

        // Each variable comes from the Secret, by a key the Secret has.
        Map<String, String> env = new HashMap<>();
        for (Object e : list(container.get("env"))) {
            Map<String, Object> ref = map(at(map(e), "valueFrom.secretKeyRef"));
            assertThat(ref.get("name")).isEqualTo(at(kinds.get("Secret"), "metadata.name"));
            assertThat(secretData).containsKey((String) ref.get("key"));
            env.put((String) map(e).get("name"), String.valueOf(secretData.get(ref.get("key"))));
        }
        String pgwardenYaml = pgwardenYaml(kinds);
        Matcher variables = Pattern.compile("\\$\\{(\\w+)}").matcher(pgwardenYaml);
        while (variables.find()) {
            assertThat(env).as("${%s} is set from the Secret", variables.group(1)).containsKey(variables.group(1));
        }
        ProxyConfig config = new ConfigLoader(env).parse(pgwardenYaml, "configmap.yaml");

        Map<String, Integer> ports = containerPorts(container);
        assertThat(config.listen().host()).isEqualTo("0.0.0.0");
        assertThat(ports.get("postgres")).isEqualTo(config.listen().port());
        assertThat(config.admin().http()).isNotNull();
        assertThat(config.admin().http().host()).isEqualTo("0.0.0.0");
        assertThat(ports.get("http")).isEqualTo(config.admin().http().port());
        assertThat(config.admin().http().metricsToken()).isNotNull();

        assertThat(at(container, "readinessProbe.httpGet.path")).isEqualTo("/ready");
        assertThat(ports).containsKey((String) at(container, "readinessProbe.httpGet.port"));
        assertThat(at(container, "livenessProbe.httpGet.path")).isEqualTo("/health");
        assertThat(ports).containsKey((String) at(container, "livenessProbe.httpGet.port"));

        // The config is where the image's command reads it, from the ConfigMap's key, read-only.
        List<Object> args = list(container.get("args"));
        Path configFile = Path.of((String) args.get(args.indexOf("--config") + 1));
        Map<String, Object> configMount = mount(container, "config");
        assertThat(configMount.get("mountPath")).isEqualTo(configFile.getParent().toString());
        assertThat(configMount.get("readOnly")).isEqualTo(true);
        assertThat(map(at(kinds.get("ConfigMap"), "data"))).containsKey(configFile.getFileName().toString());
        assertThat(at(volume(deployment, "config"), "configMap.name")).isEqualTo(at(kinds.get("ConfigMap"),
                "metadata.name"));
    }

    @Test
    void aDrainingPodLeavesTheServiceFirstAndIsNotKilledBeforeShutdownTimeout() throws Exception {
        Map<String, Map<String, Object>> kinds = byKind();
        Map<String, Object> deployment = kinds.get("Deployment");
        List<Object> preStop = list(at(container(deployment), "lifecycle.preStop.exec.command"));
        assertThat(preStop).hasSize(2).startsWith("sleep");
        int sleep = Integer.parseInt((String) preStop.get(1));
        assertThat(sleep).as("preStop sleep, long enough for the endpoints to drop the pod").isBetween(2, 15);

        // As pgwarden reads it (listen.shutdown_timeout, or its default); the secrets do not matter here.
        Duration shutdownTimeout = new ConfigLoader(Map.of())
                .parse(pgwardenYaml(kinds).replaceAll("\\$\\{\\w+}", "placeholder"), "configmap.yaml")
                .listen().shutdownTimeout();
        int grace = (Integer) at(deployment, "spec.template.spec.terminationGracePeriodSeconds");
        assertThat((long) grace).as("grace period counts from the start of preStop")
                .isGreaterThan(sleep + shutdownTimeout.toSeconds());
    }

    @Test
    void thePodRunsAsTheImagesNonRootUserOnAReadOnlyRootWithAWritableTmp() throws Exception {
        Map<String, Object> deployment = byKind().get("Deployment");
        Map<String, Object> pod = map(at(deployment, "spec.template.spec.securityContext"));
        assertThat(pod).containsEntry("runAsNonRoot", true).containsEntry("runAsUser", 10001);
        Map<String, Object> container = container(deployment);
        assertThat(map(container.get("securityContext"))).containsEntry("readOnlyRootFilesystem", true)
                .containsEntry("allowPrivilegeEscalation", false);
        assertThat(mount(container, "tmp").get("mountPath")).isEqualTo("/tmp");
        assertThat(volume(deployment, "tmp")).containsKey("emptyDir");
    }

    @Test
    void theMemoryRequestCoversTheMeasuredResidentSizeAndTheLimitTheJvmsCaps() throws Exception {
        Map<String, Object> container = container(byKind().get("Deployment"));
        long request = bytes((String) at(container, "resources.requests.memory"));
        long limit = bytes((String) at(container, "resources.limits.memory"));
        // bench/results: 280-460 MB resident up to 2,000 active clients.
        assertThat(request).isGreaterThanOrEqualTo(460L << 20);
        String options = container.get("env") == null ? null : list(container.get("env")).stream()
                .map(KubernetesManifestsTest::map).filter(e -> "JAVA_TOOL_OPTIONS".equals(e.get("name"))).map(e -> (String) e.get("value"))
                .findFirst().orElse(null);
        if (options == null) {
            Matcher m = Pattern.compile("(?m)^ENV JAVA_TOOL_OPTIONS=\"([^\"]*)\"$")
                    .matcher(Files.readString(Path.of("..", "Dockerfile")));
            assertThat(m.find()).isTrue();
            options = m.group(1);
        }
        long heap = bytes(option(options, "-Xmx"));
        long direct = bytes(option(options, "-XX:MaxDirectMemorySize="));
        // Metaspace, JIT code, thread stacks and the /tmp emptyDir (memory-backed) on top of both caps.
        assertThat(limit).isGreaterThanOrEqualTo(heap + direct + (256L << 20));
    }

    private static String option(String options, String prefix) {
        List<String> found = new ArrayList<>();
        for (String o : options.trim().split("\\s+")) {
            if (o.startsWith(prefix)) {
                found.add(o.substring(prefix.length()));
            }
        }
        assertThat(found).as(prefix).hasSize(1);
        return found.get(0);
    }

    /** Kubernetes quantities (Mi, Gi) and JVM sizes (m, g). */
    private static long bytes(String quantity) {
        Matcher m = Pattern.compile("(\\d+)(Ki|Mi|Gi|k|m|g|K|M|G)?").matcher(quantity);
        assertThat(m.matches()).as(quantity).isTrue();
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2).toLowerCase().substring(0, 1);
        return switch (unit) {
            case "k" -> n << 10;
            case "m" -> n << 20;
            case "g" -> n << 30;
            default -> n;
        };
    }

    private static Map<String, Object> mount(Map<String, Object> container, String volume) {
        return list(container.get("volumeMounts")).stream().map(KubernetesManifestsTest::map)
                .filter(m -> volume.equals(m.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no volumeMount " + volume));
    }

    private static Map<String, Object> volume(Map<String, Object> deployment, String name) {
        return list(at(deployment, "spec.template.spec.volumes")).stream().map(KubernetesManifestsTest::map)
                .filter(v -> name.equals(v.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }
}
