package io.pgwarden.config;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.DuplicateKeyException;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.representer.Representer;

/** Parses YAML text into plain maps, lists and scalars, turning every SnakeYAML failure into a problem. */
final class YamlDocument {
    private static final String DUPLICATE_PREFIX = "found duplicate key ";

    private YamlDocument() {
    }

    /** The document's root value, never null. */
    static Object parse(String text, String sourceName) throws ConfigException {
        Object root;
        try {
            root = yaml(false).load(text);
        } catch (DuplicateKeyException e) {
            throw new ConfigException(sourceName, List.of(duplicateKey(e, text)));
        } catch (MarkedYAMLException e) {
            throw new ConfigException(sourceName, List.of(syntax(e)));
        } catch (YAMLException e) {
            throw new ConfigException(sourceName, List.of("invalid YAML: " + e.getMessage()));
        }
        if (root == null) {
            throw new ConfigException(sourceName,
                    List.of("the configuration is empty; it needs at least the databases and users sections"));
        }
        return root;
    }

    // SafeConstructor: a config file must never be able to instantiate arbitrary classes through tags.
    private static Yaml yaml(boolean allowDuplicateKeys) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(allowDuplicateKeys);
        DumperOptions dumperOptions = new DumperOptions();
        return new Yaml(new SafeConstructor(options), new Representer(dumperOptions), dumperOptions, options);
    }

    private static String syntax(MarkedYAMLException e) {
        Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
        String problem = e.getProblem() != null ? e.getProblem() : e.getContext();
        // Some problems only make sense after their context, e.g. "expected a single document ... but found another".
        if (e.getContext() != null && problem.startsWith("but ")) {
            problem = e.getContext() + " " + problem;
        }
        return at(mark) + "invalid YAML: " + problem;
    }

    /** SnakeYAML only reports the key's position, so the node tree is walked to name its full path. */
    private static String duplicateKey(DuplicateKeyException e, String text) {
        String problem = e.getProblem();
        String key = problem.startsWith(DUPLICATE_PREFIX) ? problem.substring(DUPLICATE_PREFIX.length()) : problem;
        Mark mark = e.getProblemMark();
        String where = mark == null ? "" : " at line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
        String sentence = "duplicate key '" + key + "'" + where + "; each key may appear only once in a mapping";
        Optional<String> path = Optional.empty();
        if (mark != null) {
            Node root = yaml(true).compose(new java.io.StringReader(text));
            path = pathOfKeyAt(root, "", mark.getIndex(), Collections.newSetFromMap(new IdentityHashMap<>()));
        }
        return path.map(p -> p + ": " + sentence).orElse(sentence);
    }

    private static Optional<String> pathOfKeyAt(Node node, String path, int index, Set<Node> visited) {
        if (node == null || !visited.add(node)) {
            return Optional.empty();
        }
        if (node instanceof MappingNode mapping) {
            for (NodeTuple tuple : mapping.getValue()) {
                Node keyNode = tuple.getKeyNode();
                String key = keyNode instanceof ScalarNode scalar ? scalar.getValue() : "?";
                String keyPath = ConfigReader.child(path, key);
                if (keyNode.getStartMark() != null && keyNode.getStartMark().getIndex() == index) {
                    return Optional.of(keyPath);
                }
                Optional<String> found = pathOfKeyAt(tuple.getValueNode(), keyPath, index, visited);
                if (found.isPresent()) {
                    return found;
                }
            }
        } else if (node instanceof SequenceNode sequence) {
            List<Node> items = sequence.getValue();
            for (int i = 0; i < items.size(); i++) {
                Optional<String> found = pathOfKeyAt(items.get(i), path + "[" + i + "]", index, visited);
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        return Optional.empty();
    }

    private static String at(Mark mark) {
        return mark == null ? "" : "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1) + ": ";
    }
}
