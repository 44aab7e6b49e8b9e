package io.github.chatglm4j.agent.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.sandbox.ShellResult;

import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The reference composite demo's three tools, with its names, descriptions, parameters and result texts:
 * {@code random_number_generator(seed, range)}, {@code get_weather(city_name)} and {@code get_shell(query)}. The
 * shell runs in the sandbox, never on the host; the weather needs the network and is off unless enabled.
 *
 * <pre>{@code
 * ToolRegistry tools = BuiltinTools.registry(WeatherService.DISABLED, BuiltinTools.shell(sandbox, dataDir, Duration.ofSeconds(30)));
 * }</pre>
 */
public final class BuiltinTools {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SHELL_OUTPUT_BYTES = 64 * 1024;
    /** The keys of wttr.in's j1 answer the reference passes on. */
    private static final List<String> WEATHER_KEYS = List.of("temp_C", "FeelsLikeC", "humidity", "weatherDesc", "observation_time");

    private BuiltinTools() {
    }

    /** All three, in the reference's order. */
    public static ToolRegistry registry(WeatherService weather, Tool shell) {
        return new ToolRegistry().add(randomNumberGenerator()).add(weather(weather)).add(shell);
    }

    /** {@code random.Random(seed).randint(*range)}: the same number CPython gives for the same seed. */
    public static Tool randomNumberGenerator() {
        return Tool.of("random_number_generator", "Generates a random number x, s.t. range[0] <= x < range[1]",
                List.of(ToolParameter.required("seed", "int", "The random seed used by the generator"),
                        ToolParameter.required("range", "tuple[int, int]", "The range of the generated numbers")),
                args -> {
                    JsonNode seed = args.node("seed");
                    JsonNode range = args.node("range");
                    if (!seed.isIntegralNumber()) {
                        throw ToolException.typeError("Seed must be an integer");
                    }
                    if (!range.isArray()) {
                        throw ToolException.typeError("Range must be a tuple");
                    }
                    if (range.size() != 2 || !range.get(0).isIntegralNumber() || !range.get(1).isIntegralNumber()) {
                        throw ToolException.typeError("Range must be a tuple of integers");
                    }
                    BigInteger a = range.get(0).bigIntegerValue();
                    BigInteger b = range.get(1).bigIntegerValue();
                    try {
                        return PythonRandom.randint(seed.bigIntegerValue(), a, b).toString();
                    } catch (IllegalArgumentException e) {
                        throw ToolException.valueError(e.getMessage());
                    }
                });
    }

    /**
     * wttr.in's current condition for a city, as the reference shows it ({@code str()} of a dict). Off, or when the
     * service cannot be reached, the result says so.
     */
    public static Tool weather(WeatherService service) {
        return Tool.of("get_weather", "Get the current weather for `city_name`",
                List.of(ToolParameter.required("city_name", "str", "The name of the city to be queried")),
                args -> {
                    JsonNode city = args.node("city_name");
                    if (!city.isTextual()) {
                        throw ToolException.typeError("City name must be a string");
                    }
                    if (!service.enabled()) {
                        return "Weather lookups are turned off here: they send the city name to " + service.baseUrl()
                                + ", which the operator has not allowed.";
                    }
                    return fetchWeather(service, city.textValue());
                });
    }

    private static String fetchWeather(WeatherService service, String city) throws InterruptedException {
        String base = service.baseUrl().toString().replaceAll("/+$", "");
        URI uri = URI.create(base + "/" + URLEncoder.encode(city, StandardCharsets.UTF_8).replace("+", "%20") + "?format=j1");
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(service.timeout()).build()) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(service.timeout())
                    .header("Accept", "application/json").header("User-Agent", "chatglm4j").GET().build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (response.statusCode() != 200) {
                return weatherError("HTTP " + response.statusCode() + " from " + uri.getHost());
            }
            JsonNode current = JSON.readTree(response.body()).path("current_condition").path(0);
            ObjectNode selected = JsonNodeFactory.instance.objectNode();
            for (String key : WEATHER_KEYS) {
                if (!current.has(key)) {
                    return weatherError("the answer has no current_condition." + key);
                }
                selected.set(key, current.get(key));
            }
            ObjectNode result = JsonNodeFactory.instance.objectNode();
            result.set("current_condition", selected);
            return PythonRepr.of(result);
        } catch (IOException e) {
            String why = e.getMessage() == null || e.getMessage().isBlank() ? "" : ": " + e.getMessage();
            return weatherError(e.getClass().getSimpleName() + why + " (" + uri.getHost() + " unreachable: offline?)");
        }
    }

    /** The reference's first line, then what went wrong (it has a Python traceback there). */
    private static String weatherError(String why) {
        return "Error encountered while fetching weather data!\n" + why;
    }

    /**
     * Runs the model's shell command in the sandbox, with the conversation's folder at /mnt/data and no network. As in
     * the reference, the result is the command's stdout if it succeeded, else its stderr.
     */
    public static Tool shell(Sandbox sandbox, Path dataDir, Duration timeout) {
        return shellTool(args -> {
            String query = query(args);
            ShellResult r = sandbox.runShell(dataDir, query, timeout, SHELL_OUTPUT_BYTES);
            if (r.timedOut()) {
                return "Timed out after " + timeout.toSeconds() + " s: the command was killed.";
            }
            return r.exitCode() == 0 ? r.stdout() : r.stderr();
        });
    }

    /** get_shell where the sandbox cannot run: declared like the reference's, answering why it is unavailable. */
    public static Tool shellUnavailable(String why) {
        return shellTool(args -> {
            query(args);
            return "get_shell is not available: " + why;
        });
    }

    private static Tool shellTool(ToolHandler handler) {
        return Tool.of("get_shell", "Use shell to run command",
                List.of(ToolParameter.required("query", "str", "The command should run in Linux shell")), handler);
    }

    private static String query(ToolArguments args) throws ToolException {
        JsonNode q = args.node("query");
        if (!q.isTextual()) {
            throw ToolException.typeError("Command must be a string");
        }
        return q.textValue();
    }
}
