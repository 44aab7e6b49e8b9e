package io.github.chatglm4j.agent.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.github.chatglm4j.agent.testing.Fixtures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** get_weather against a fake wttr.in on 127.0.0.1: the reference's result text, and clear texts when it cannot answer. */
class WeatherToolTest {
    private static final JsonNode WEATHER = Fixtures.pythonOracle().get("weather");

    private HttpServer server;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private volatile int status = 200;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            requests.add(exchange.getRequestURI().getRawPath() + "?" + exchange.getRequestURI().getRawQuery());
            byte[] body = WEATHER.get("j1").asText().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private static ToolResult call(WeatherService service, String city) {
        ObjectNode args = new ObjectMapper().createObjectNode().put("city_name", city);
        return new ToolRegistry().add(BuiltinTools.weather(service)).call("get_weather", args);
    }

    @Test
    void theCurrentConditionComesBackAsTheReferenceShowsIt() {
        ToolResult r = call(new WeatherService(true, base(), Duration.ofSeconds(10)), "New York");

        assertThat(r).isEqualTo(new ToolResult(WEATHER.get("result").asText(), false));
        assertThat(requests).containsExactly("/New%20York?format=j1");
    }

    @Test
    void turnedOffItMakesNoRequestAndSaysSo() {
        ToolResult r = call(new WeatherService(false, base(), Duration.ofSeconds(10)), "Beijing");

        assertThat(r.text()).isEqualTo("Weather lookups are turned off here: they send the city name to " + base()
                + ", which the operator has not allowed.");
        assertThat(requests).isEmpty();
    }

    @Test
    void aFailingServiceGivesTheReferencesErrorLineAndTheStatus() {
        status = 503;

        ToolResult r = call(new WeatherService(true, base(), Duration.ofSeconds(10)), "Beijing");

        assertThat(r.text()).isEqualTo("Error encountered while fetching weather data!\nHTTP 503 from 127.0.0.1");
    }

    @Test
    void offlineItSaysTheServiceIsUnreachable() throws IOException {
        int closedPort;
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }

        ToolResult r = call(new WeatherService(true, URI.create("http://127.0.0.1:" + closedPort), Duration.ofSeconds(10)), "Beijing");

        assertThat(r.text()).startsWith("Error encountered while fetching weather data!\nConnectException")
                .endsWith("(127.0.0.1 unreachable: offline?)");
    }

    @Test
    void aCityThatIsNotAStringIsRefusedWithTheReferencesMessage() {
        ObjectNode args = new ObjectMapper().createObjectNode().put("city_name", 42);

        ToolResult r = new ToolRegistry().add(BuiltinTools.weather(new WeatherService(true, base(), Duration.ofSeconds(10))))
                .call("get_weather", args);

        assertThat(r.text()).isEqualTo("TypeError: City name must be a string");
        assertThat(requests).isEmpty();
    }
}
