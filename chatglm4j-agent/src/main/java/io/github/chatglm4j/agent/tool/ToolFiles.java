package io.github.chatglm4j.agent.tool;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;

/**
 * Reads tool definitions from an OpenAI-style JSON or YAML file (by extension: {@code .yaml}/{@code .yml} is YAML).
 * The file holds a list of tools, or an object with a {@code tools} list, or one tool; each tool is flat
 * {@code {name, description, parameters}} (ChatGLM3's documented format) or OpenAI's
 * {@code {"type": "function", "function": {...}}}. The tools come without an implementation: give each one with
 * {@link Tool#withHandler}.
 *
 * <pre>{@code
 * List<Tool> declared = ToolFiles.read(Path.of("tools.yaml"));
 * }</pre>
 */
public final class ToolFiles {
    private ToolFiles() {
    }

    /**
     * @throws IllegalArgumentException with the file and the place of the problem when the content is not valid
     * @throws IOException              when the file cannot be read
     */
    public static List<Tool> read(Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        ObjectMapper mapper = name.endsWith(".yaml") || name.endsWith(".yml") ? new ObjectMapper(new YAMLFactory()) : new ObjectMapper();
        JsonNode root;
        try {
            root = mapper.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no such tool file");
        } catch (JacksonException e) {
            throw new IllegalArgumentException(file + ": not valid " + (mapper.getFactory() instanceof YAMLFactory ? "YAML" : "JSON")
                    + ": " + e.getOriginalMessage());
        }
        return parse(root, file.toString());
    }

    /**
     * Reads tool definitions given as text (e.g. typed into a web page): JSON when the text starts with {@code [} or
     * <code>{</code>, YAML otherwise.
     *
     * @param source names the text in error messages
     * @throws IllegalArgumentException naming {@code source} and the place of the problem when the text is not valid
     */
    public static List<Tool> parse(String text, String source) {
        String start = text.stripLeading();
        boolean json = start.startsWith("[") || start.startsWith("{");
        ObjectMapper mapper = json ? new ObjectMapper() : new ObjectMapper(new YAMLFactory());
        JsonNode root;
        try {
            root = mapper.readTree(text);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(source + ": not valid " + (json ? "JSON" : "YAML") + ": " + firstLine(e.getOriginalMessage()));
        }
        return parse(root, source);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    static List<Tool> parse(JsonNode root, String source) {
        JsonNode list = root;
        String where = "";
        if (root != null && root.isObject() && root.has("tools")) {
            list = root.get("tools");
            where = "tools";
        } else if (root != null && root.isObject()) {
            list = JsonNodeFactory.instance.arrayNode().add(root);
        }
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw new IllegalArgumentException(source + ": expected a list of tools (or {\"tools\": [...]})");
        }
        var tools = new ArrayList<Tool>();
        var names = new HashSet<String>();
        for (int i = 0; i < list.size(); i++) {
            String at = source + ": " + where + "[" + i + "]";
            Tool t = tool(list.get(i), at);
            if (!names.add(t.name())) {
                throw new IllegalArgumentException(at + ": the tool name '" + t.name() + "' appears twice");
            }
            tools.add(t);
        }
        return tools;
    }

    private static Tool tool(JsonNode item, String at) {
        JsonNode fn = item;
        if (item.isObject() && item.has("function")) {
            fn = item.get("function");
            at += ".function";
        }
        if (!fn.isObject()) {
            throw new IllegalArgumentException(at + ": a tool must be an object with a name");
        }
        JsonNode name = fn.get("name");
        if (name == null || !name.isTextual() || name.asText().isBlank()) {
            throw new IllegalArgumentException(at + ": the tool needs a \"name\" string");
        }
        JsonNode description = fn.get("description");
        if (description != null && !description.isTextual()) {
            throw new IllegalArgumentException(at + ": \"description\" must be a string");
        }
        JsonNode schema = fn.get("parameters");
        if (schema != null && !schema.isObject()) {
            throw new IllegalArgumentException(at + ": \"parameters\" must be a JSON schema object");
        }
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("name", name.asText());
        if (description != null) {
            d.put("description", description.asText());
        }
        if (schema != null) {
            d.set("parameters", schema.deepCopy());
        }
        return new Tool(name.asText(), description == null ? "" : description.asText(), parameters(schema), d, null);
    }

    /** The parameters a JSON schema declares, for checking calls: its properties, and which are required. */
    private static List<ToolParameter> parameters(JsonNode schema) {
        var params = new ArrayList<ToolParameter>();
        if (schema == null) {
            return params;
        }
        var required = new HashSet<String>();
        schema.path("required").forEach(r -> required.add(r.asText()));
        for (var e : schema.path("properties").properties()) {
            JsonNode p = e.getValue();
            params.add(new ToolParameter(e.getKey(), p.path("description").asText(""), p.path("type").asText("any"),
                    required.contains(e.getKey())));
        }
        return params;
    }
}
