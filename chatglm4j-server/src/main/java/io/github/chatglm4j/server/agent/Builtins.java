package io.github.chatglm4j.server.agent;

import io.github.chatglm4j.agent.tool.BuiltinTools;
import io.github.chatglm4j.agent.tool.Tool;
import io.github.chatglm4j.agent.tool.WeatherService;

import java.util.List;

/**
 * The reference demo's built-in tools as the agent API offers them: by name, in the demo's order, declared as the
 * system prompt shows them (a declaration is the same whatever runs the calls). get_weather only where the server
 * allows it, since it sends the city to a service on the internet.
 */
final class Builtins {
    static final List<String> NAMES = List.of("random_number_generator", "get_weather", "get_shell");

    private Builtins() {
    }

    /** The tools /api/info lists: {@code {name, description, params}} as the demo's registry renders them. */
    static List<Tool> offered(boolean weather) {
        return NAMES.stream().filter(n -> weather || !n.equals("get_weather")).map(Builtins::declared).toList();
    }

    static Tool declared(String name) {
        return switch (name) {
            case "random_number_generator" -> BuiltinTools.randomNumberGenerator();
            case "get_weather" -> BuiltinTools.weather(WeatherService.DISABLED);
            case "get_shell" -> BuiltinTools.shellUnavailable("calls are answered by the user");
            default -> throw new IllegalArgumentException("no built-in tool " + name);
        };
    }
}
