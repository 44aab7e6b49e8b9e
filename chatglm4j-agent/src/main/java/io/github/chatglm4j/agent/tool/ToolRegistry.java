package io.github.chatglm4j.agent.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.chat.ChatMessage;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tools of a conversation: how they are shown to the model and how its calls are dispatched, with the reference
 * composite demo's semantics. A call of an unknown tool, with wrong arguments, or that fails becomes a text the model
 * can read, never an exception.
 *
 * <pre>{@code
 * ToolRegistry tools = new ToolRegistry()
 *         .add(BuiltinTools.randomNumberGenerator())
 *         .add("get_time", "The current time in a time zone",
 *              List.of(ToolParameter.required("zone", "str", "An IANA time zone")),
 *              args -> ZonedDateTime.now(ZoneId.of(args.string("zone"))).toString());
 * ChatSession chat = glm.newChat(List.of(tools.systemMessage()));
 * }</pre>
 * Not thread-safe while tools are added; calls may come from any thread afterwards.
 */
public final class ToolRegistry {
    /** The system prompt ChatGLM3 was trained with for tools; the tools follow it as indented JSON. */
    public static final String TOOLS_PROMPT = ChatMessage.TOOLS_PROMPT;

    private final Map<String, Tool> tools = new LinkedHashMap<>();

    public ToolRegistry add(Tool tool) {
        if (tools.putIfAbsent(tool.name(), tool) != null) {
            throw new IllegalArgumentException("a tool named " + tool.name() + " is already registered");
        }
        return this;
    }

    public ToolRegistry add(String name, String description, List<ToolParameter> parameters, ToolHandler handler) {
        return add(Tool.of(name, description, parameters, handler));
    }

    public ToolRegistry addAll(Collection<Tool> more) {
        more.forEach(this::add);
        return this;
    }

    /** Registers every {@link ToolFunction} method of {@code target} (sorted by name). */
    public ToolRegistry addMethods(Object target) {
        return addAll(MethodTools.of(target));
    }

    public Optional<Tool> find(String name) {
        return Optional.ofNullable(tools.get(name));
    }

    public List<Tool> tools() {
        return List.copyOf(tools.values());
    }

    public boolean isEmpty() {
        return tools.isEmpty();
    }

    /**
     * The tools as the system message carries them. Registered tools render as the composite demo's
     * {@code get_tools()}: an object keyed by name, each {@code {"name", "description", "params": [...]}} (what
     * chatglm.cpp's function_call.txt shows). When every tool came from an OpenAI-style file, they render as the list of
     * flat {@code {"name", "description", "parameters"}} that ChatGLM3's tool documentation uses.
     */
    public JsonNode promptTools() {
        if (!tools.isEmpty() && tools.values().stream().allMatch(Tool::openAiStyle)) {
            ArrayNode list = JsonNodeFactory.instance.arrayNode();
            tools.values().forEach(t -> list.add(t.definition()));
            return list;
        }
        ObjectNode byName = JsonNodeFactory.instance.objectNode();
        tools.values().forEach(t -> byName.set(t.name(), t.definition()));
        return byName;
    }

    /** The system message that announces the tools: {@link #TOOLS_PROMPT} with {@link #promptTools()}. */
    public ChatMessage systemMessage() {
        return ChatMessage.system(TOOLS_PROMPT, promptTools());
    }

    /**
     * Calls a tool on this thread. An interrupt of this thread is the tool's business (a handler that blocks should
     * stop on it, as the shell tool does); the resulting exception is reported like any other failure.
     */
    public ToolResult call(String name, ObjectNode arguments) {
        Tool tool = tools.get(name);
        if (tool == null) {
            return new ToolResult("Tool `" + name + "` not found. Please use a provided tool.", true);
        }
        String problem = checkArguments(tool, arguments);
        if (problem != null) {
            return new ToolResult(problem, true);
        }
        if (tool.handler() == null) {
            return new ToolResult("Tool `" + name + "` is declared but has no implementation here.", true);
        }
        try {
            String text = tool.handler().call(new ToolArguments(name, arguments));
            return new ToolResult(text == null ? "None" : text, false);
        } catch (ToolException e) {
            return new ToolResult(e.observation(), true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ToolResult("Tool `" + name + "` was stopped.", true);
        } catch (Exception | StackOverflowError e) {
            return new ToolResult(e.getClass().getSimpleName() + ": " + e.getMessage(), true);
        }
    }

    /** Python's own complaint about a call with unknown or missing keyword arguments, or null if it binds. */
    static String checkArguments(Tool tool, ObjectNode arguments) {
        var known = new ArrayList<String>();
        tool.parameters().forEach(p -> known.add(p.name()));
        if (!tool.parameters().isEmpty() || !tool.openAiStyle()) {
            for (var it = arguments.fieldNames(); it.hasNext(); ) {
                String given = it.next();
                if (!known.contains(given)) {
                    return "TypeError: " + tool.name() + "() got an unexpected keyword argument '" + given + "'";
                }
            }
        }
        var missing = new ArrayList<String>();
        for (ToolParameter p : tool.parameters()) {
            if (p.required() && !arguments.has(p.name())) {
                missing.add("'" + p.name() + "'");
            }
        }
        if (missing.isEmpty()) {
            return null;
        }
        String names = switch (missing.size()) {
            case 1 -> missing.getFirst();
            case 2 -> missing.get(0) + " and " + missing.get(1);
            default -> String.join(", ", missing.subList(0, missing.size() - 1)) + ", and " + missing.getLast();
        };
        return "TypeError: " + tool.name() + "() missing " + missing.size() + " required positional argument"
                + (missing.size() == 1 ? "" : "s") + ": " + names;
    }
}
