package io.github.chatglm4j.webui;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.webui.ScriptedServer.Hold;
import io.github.chatglm4j.webui.ScriptedServer.Prompt;
import io.github.chatglm4j.webui.ScriptedServer.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tool and code-interpreter modes against the real server: the model's calls (in ChatGLM3's format) are parsed by the
 * server and really run (get_weather against a loopback wttr.in, code in the real sandbox); the page shows each call
 * with its arguments, state and result, figures and files.
 */
class AgentModesTest extends BrowserTest {
    static final String WEATHER_CALL = "```python\ntool_call(city_name='Beijing')\n```";
    static final String WEATHER_OBSERVATION = "{'current_condition': {'temp_C': '24', 'FeelsLikeC': '23', 'humidity': '31', "
            + "'weatherDesc': [{'value': 'Sunny'}], 'observation_time': '06:00 AM'}}";

    /** The model calls get_weather for Beijing, and answers once it has read the result. */
    static Reply weather(Prompt p) {
        return p.answersAResult() ? Reply.text("It is sunny in Beijing, 24 °C.") : Reply.call("get_weather", WEATHER_CALL);
    }

    @Test
    void aTwoRoundToolCallShowsTheCallItsArgumentsStateAndResult() throws Exception {
        requireSandbox(); // get_shell is one of the tools the page offers by default, and it runs in the sandbox
        try (var weather = new FakeWeather()) {
            serve(ScriptedServer.start(o -> o.withAgent(o.agent().withWeather(weather.service()))));
            server.replies = AgentModesTest::weather;
            weather.hold();
            load();
            page.locator("#mode-tool").click();
            assertThat(page.locator("#mode-tool")).hasAttribute("aria-selected", "true");
            send("What is the weather in Beijing?");
            weather.awaitRequests(1);
            // the server parsed the call and runs it (the weather service has the request and holds it)
            var call = lastAssistant().locator("details.call");
            assertThat(call.locator(".call-name")).containsText("get_weather");
            assertThat(call.locator(".call-state")).hasText("calling get_weather"); // the server's status while it runs
            assertThat(call.locator(".call-round")).hasText("round 1 of 5");
            assertThat(call.locator(".call-arguments")).containsText("\"city_name\": \"Beijing\"");
            weather.release();
            assertThat(call.locator(".call-state")).hasText("done");
            assertThat(call.locator(".output")).hasText(WEATHER_OBSERVATION);
            assertThat(lastAssistant().locator(".content.markdown")).containsText("It is sunny in Beijing, 24 °C.");
            // collapsible
            call.locator("summary").click();
            assertThat(call.locator(".output")).isHidden();

            assertThat(weather.cities).containsExactly("Beijing");
            JsonNode first = lastTurn();
            assertThat(first.get("mode").asText()).isEqualTo("tool");
            assertThat(first.get("tools").get("builtin")).hasSize(3);
            assertThat(first.get("manual").asBoolean()).isFalse();
            // round 2: the model read the tools prompt, its call and the tool's result
            Prompt second = server.lastPrompt();
            assertThat(second.transcript().getFirst()).startsWith("system: Answer the following questions as best as you can. "
                    + "You have access to the following tools:").contains("\"get_weather\"").contains("\"get_shell\"");
            assertThat(second.transcript().subList(1, 4)).containsExactly("user: What is the weather in Beijing?",
                    "assistant [get_weather]: " + WEATHER_CALL, "observation: " + WEATHER_OBSERVATION);

            // the next turn carries the call with its tool name, as the server returned it (the reference demo lost it)
            send("And tomorrow?");
            assertThat(page.locator("article.message.assistant")).hasCount(2);
            assertThat(lastAssistant().locator(".call-state")).hasText("done");
            assertThat(lastAssistant().locator(".content.markdown")).containsText("It is sunny in Beijing, 24 °C.");
            assertThat(lastTurn().get("history")).hasSize(4);
            assertThat(server.lastPrompt().transcript().subList(1, 8)).containsExactly("user: What is the weather in Beijing?",
                    "assistant [get_weather]: " + WEATHER_CALL, "observation: " + WEATHER_OBSERVATION,
                    "assistant: It is sunny in Beijing, 24 °C.", "user: And tomorrow?",
                    "assistant [get_weather]: " + WEATHER_CALL, "observation: " + WEATHER_OBSERVATION);
        }
    }

    @Test
    void inManualModeTheUserTypesTheObservation() {
        server.replies = p -> p.answersAResult() ? Reply.text("The stock is at 42.")
                : Reply.call("get_stock", "```python\ntool_call(symbol='GLM')\n```");
        load();
        page.locator("#mode-tool").click();
        page.locator("#open-settings").click();
        page.locator("input[name=tool-source][value=definitions]").check();
        assertThat(page.locator("#tool-definitions")).isVisible();
        page.locator("#tool-definitions").fill("- name: get_stock\n  description: the price of a stock\n  parameters: {type: object, properties: {symbol: {type: string}}}\n");
        assertThat(page.locator("#manual-mode")).isChecked();
        assertThat(page.locator("#max-rounds")).hasText("5");
        page.locator("#close-settings").click();
        send("Price of GLM?");
        assertThat(lastAssistant().locator(".call-state")).hasText("waiting for your result");
        assertThat(lastAssistant().locator(".call-arguments")).containsText("\"symbol\": \"GLM\"");
        assertThat(page.locator("#observation-note")).isVisible();
        assertThat(lastTurn().get("manual").asBoolean()).isTrue();
        assertThat(server.lastPrompt().transcript().getFirst()).contains("\"name\": \"get_stock\"");
        send("{\"price\": 42}");
        assertThat(page.locator("article.message.observation")).containsText("{\"price\": 42}");
        assertThat(lastAssistant()).containsText("The stock is at 42.");
        assertThat(page.locator("#observation-note")).isHidden();
        assertThat(server.lastPrompt().transcript()).endsWith("user: Price of GLM?",
                "assistant [get_stock]: ```python\ntool_call(symbol='GLM')\n```", "observation: {\"price\": 42}");
    }

    @Test
    void theInterpreterShowsCodeAsItIsWrittenThenOutputAndFigureInline() throws Exception {
        requireSandbox();
        Hold writing = new Hold();
        server.replies = p -> p.answersAResult() ? Reply.text("Here is the plot.")
                : Reply.code("import matplotlib.pyplot as plt\n", writing, "plt.plot([1, 2, 3])\nprint('plotted')");
        load();
        page.locator("#mode-interpreter").click();
        send("plot 1 2 3");
        writing.awaitReached();
        var call = lastAssistant().locator("details.call");
        assertThat(call.locator(".call-code code")).containsText("import matplotlib.pyplot as plt");
        assertThat(call.locator(".call-state")).hasText("writing…");
        assertThat(call.locator(".call-code code")).not().containsText("plt.plot");
        writing.release();
        assertThat(call.locator(".call-code code")).containsText("plt.plot([1, 2, 3])");
        // the sandbox ran it: its output, and matplotlib's figure (640 x 480 by default) inline
        assertThat(call.locator(".call-state")).hasText("done");
        assertThat(call.locator(".output")).hasText("plotted");
        assertThat(call.locator("img.figure")).isVisible();
        assertThat(call.locator("img.figure").evaluate("img => [img.naturalWidth, img.naturalHeight].join('x')")).isEqualTo("640x480");
        assertThat(lastAssistant()).containsText("Here is the plot.");
        assertThat(lastTurn().get("mode").asText()).isEqualTo("interpreter");
        assertThat(server.lastPrompt().transcript().getFirst()).startsWith("system: 你是一位智能AI助手");
        assertThat(server.lastPrompt().transcript()).endsWith("observation: plotted\n[Image]");
    }

    @Test
    void aCellThatTimesOutSaysSo() {
        requireSandbox();
        serve(ScriptedServer.start(o -> o.withAgent(o.agent().withCellTimeout(Duration.ofSeconds(1)))));
        server.replies = p -> p.answersAResult() ? Reply.text("The code ran too long.") : Reply.code("import time\ntime.sleep(600)");
        load();
        page.locator("#mode-interpreter").click();
        send("wait ten minutes");
        var call = lastAssistant().locator("details.call");
        assertThat(call.locator(".call-state")).hasText("timed out");
        assertThat(call).hasClass(Pattern.compile("state-timedOut"));
        assertThat(call.locator(".output")).containsText("KeyboardInterrupt");
        assertThat(call.locator(".output")).containsText("Timed out after 1 s: the cell was interrupted (variables and files are kept).");
        assertThat(lastAssistant()).containsText("The code ran too long.");
        assertThat(server.lastPrompt().transcript().getLast()).startsWith("observation: ").contains("Timed out after 1 s");
    }

    @Test
    void aRunningCellCanBeStopped() {
        requireSandbox();
        server.replies = p -> p.answersAResult() ? Reply.text("never") : Reply.code("import time\ntime.sleep(600)");
        load();
        page.locator("#mode-interpreter").click();
        send("sleep");
        assertThat(lastAssistant().locator(".call-state")).hasText("running the code");
        page.locator("#stop").click();
        assertThat(lastAssistant().locator(".outcome")).hasText("Stopped.");
        assertThat(lastAssistant().locator(".call-state")).not().hasText("running the code");
        assertThat(lastAssistant()).not().containsText("never");
        assertThat(server.prompts).as("the model was not asked to answer the interrupted cell").hasSize(1);
        assertThat(page.locator("#send")).isVisible();
    }

    @Test
    void filesAreUploadedAnnouncedReadByTheCodeAndWhatItWroteDownloaded(@TempDir Path dir) throws Exception {
        requireSandbox();
        Path csv = dir.resolve("data.csv");
        Files.writeString(csv, "x,y\n1,2\n3,4\n");
        String announced = "#File: /mnt/data/data.csv\n#Size: 12\n#File uploaded\nSum the columns";
        server.replies = p -> p.answersAResult() ? Reply.text("Done: the sum is in result.txt.")
                : p.lastMessage().equals(announced) ? Reply.code("""
                import csv
                rows = list(csv.DictReader(open('/mnt/data/data.csv')))
                total = sum(int(r['x']) + int(r['y']) for r in rows)
                with open('/mnt/data/result.txt', 'w') as f:
                    f.write(f'sum={total}\\n')
                print(total)""") : Reply.text("I see no file.");
        load();
        page.locator("#mode-interpreter").click();
        assertThat(page.locator("#upload")).isVisible();
        page.locator("#upload-file").setInputFiles(csv);
        assertThat(page.locator("#attachments .chip")).containsText("data.csv (12 B)");
        send("Sum the columns");
        assertThat(lastAssistant()).containsText("Done: the sum is in result.txt.");
        // the code read the uploaded file in the sandbox's /mnt/data
        var call = lastAssistant().locator("details.call");
        assertThat(call.locator(".output")).hasText("10");
        assertThat(lastTurn().get("message").get("content").asText()).isEqualTo(announced);
        assertThat(page.locator("article.message.user .chip")).containsText("data.csv");
        assertThat(page.locator("article.message.user .content")).hasText("Sum the columns");

        var download = page.waitForDownload(() -> lastAssistant().locator("button.download").click());
        assertThat(download.suggestedFilename()).isEqualTo("result.txt");
        assertThat(Files.readString(download.path())).isEqualTo("sum=10\n");
    }
}
