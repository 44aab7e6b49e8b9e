package io.github.chatglm4j.webui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static io.github.chatglm4j.webui.FakeAgentApi.HOLD;
import static io.github.chatglm4j.webui.FakeAgentApi.call;
import static io.github.chatglm4j.webui.FakeAgentApi.callStart;
import static io.github.chatglm4j.webui.FakeAgentApi.code;
import static io.github.chatglm4j.webui.FakeAgentApi.done;
import static io.github.chatglm4j.webui.FakeAgentApi.entry;
import static io.github.chatglm4j.webui.FakeAgentApi.result;
import static io.github.chatglm4j.webui.FakeAgentApi.status;
import static io.github.chatglm4j.webui.FakeAgentApi.text;
import static org.assertj.core.api.Assertions.assertThat;

/** Tool and code-interpreter modes: calls with their arguments, state and results, figures, files, timeouts. */
class AgentModesTest extends BrowserTest {
    static final String WEATHER_CALL = "```python\ntool_call(city_name='Beijing')\n```";

    static List<ObjectNode> weatherTurn(JsonNode request) {
        List<ObjectNode> events = new ArrayList<>();
        events.add(callStart(1, "get_weather"));
        events.add(code(1, WEATHER_CALL));
        events.add(call(1, "get_weather", "{\"city_name\": \"Beijing\"}", null));
        events.add(HOLD);
        events.add(result(1, "get_weather", "{\"temperature\": 25, \"sky\": \"sunny\"}", List.of(), Map.of(), false, false));
        events.add(text(2, "It is sunny in Beijing, 25 °C."));
        events.add(done("answered", request, "It is sunny in Beijing, 25 °C.", entry("assistant", WEATHER_CALL, "get_weather"),
                entry("observation", "{\"temperature\": 25, \"sky\": \"sunny\"}", "get_weather")));
        return events;
    }

    @Test
    void aTwoRoundToolCallShowsTheCallItsArgumentsStateAndResult() throws Exception {
        api.script = AgentModesTest::weatherTurn;
        load();
        page.locator("#mode-tool").click();
        assertThat(page.locator("#mode-tool")).hasAttribute("aria-selected", "true");
        send("What is the weather in Beijing?");
        var call = lastAssistant().locator("details.call");
        assertThat(call.locator(".call-name")).containsText("get_weather");
        assertThat(call.locator(".call-state")).hasText("running…");
        assertThat(call.locator(".call-round")).hasText("round 1 of 5");
        assertThat(call.locator(".call-arguments")).containsText("\"city_name\": \"Beijing\"");
        api.release();
        assertThat(call.locator(".call-state")).hasText("done");
        assertThat(call.locator(".output")).containsText("sunny");
        assertThat(lastAssistant().locator(".content.markdown")).containsText("It is sunny in Beijing");
        // collapsible
        call.locator("summary").click();
        assertThat(call.locator(".output")).isHidden();

        JsonNode first = api.lastTurn();
        assertThat(first.get("mode").asText()).isEqualTo("tool");
        assertThat(first.get("tools").get("builtin")).hasSize(3);
        assertThat(first.get("manual").asBoolean()).isFalse();
        assertThat(first.has("system")).isFalse();

        // the next turn carries the call with its tool name, as the server returned it (the reference demo lost it)
        api.script = AgentModesTest::weatherTurn;
        send("And tomorrow?");
        api.awaitHeld(1);
        JsonNode history = api.lastTurn().get("history");
        assertThat(history).hasSize(4);
        assertThat(history.get(1).get("metadata").asText()).isEqualTo("get_weather");
        assertThat(history.get(2).get("role").asText()).isEqualTo("observation");
        api.release();
        assertThat(lastAssistant().locator(".call-state")).hasText("done");
    }

    @Test
    void inManualModeTheUserTypesTheObservation() {
        api.script = request -> request.get("message").get("role").asText().equals("observation")
                ? List.of(text(1, "The stock is at 42."), done("answered", request, "The stock is at 42."))
                : List.of(callStart(1, "get_stock"), call(1, "get_stock", "{\"symbol\": \"GLM\"}", null),
                done("awaiting_observation", request, null, entry("assistant", "```python\ntool_call(symbol='GLM')\n```", "get_stock")));
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
        assertThat(page.locator("#observation-note")).isVisible();
        JsonNode first = api.lastTurn();
        assertThat(first.get("manual").asBoolean()).isTrue();
        assertThat(first.get("tools").get("definitions").asText()).contains("name: get_stock");
        send("{\"price\": 42}");
        assertThat(page.locator("article.message.observation")).containsText("{\"price\": 42}");
        assertThat(lastAssistant()).containsText("The stock is at 42.");
        assertThat(api.lastTurn().get("message").get("role").asText()).isEqualTo("observation");
        assertThat(page.locator("#observation-note")).isHidden();
    }

    @Test
    void theInterpreterShowsCodeAsItIsWrittenThenOutputAndFigureInline() throws Exception {
        String png = png();
        api.script = request -> List.of(text(1, "Let me plot it."), callStart(1, "interpreter"), code(1, "```python\nimport matplotlib"),
                HOLD, code(1, ".pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()\n```"),
                call(1, "interpreter", null, "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()"),
                status(1, "running the code"), HOLD,
                result(1, "interpreter", "[Image]", List.of(png), Map.of(), false, false),
                text(2, "Here is the plot."), done("answered", request, "Here is the plot."));
        load();
        page.locator("#mode-interpreter").click();
        send("plot 1 2 3");
        var call = lastAssistant().locator("details.call");
        assertThat(call.locator(".call-code code")).containsText("import matplotlib");
        assertThat(call.locator(".call-state")).hasText("writing…");
        api.release();
        assertThat(call.locator(".call-code code")).containsText("plt.plot([1, 2, 3])");
        assertThat(call.locator(".call-state")).hasText("running the code");
        api.release();
        assertThat(call.locator(".call-state")).hasText("done");
        assertThat(call.locator("img.figure")).isVisible();
        assertThat(call.locator("img.figure").evaluate("img => img.naturalWidth")).isEqualTo(64);
        assertThat(lastAssistant()).containsText("Here is the plot.");
        assertThat(api.lastTurn().get("mode").asText()).isEqualTo("interpreter");
    }

    @Test
    void aCellThatTimesOutSaysSo() {
        api.script = request -> List.of(callStart(1, "interpreter"), code(1, "```python\nwhile True: pass\n```"),
                call(1, "interpreter", null, "while True: pass"), status(1, "running the code"),
                result(1, "interpreter", "Timed out", List.of(), Map.of(), true, true),
                text(2, "The code ran too long."), done("answered", request, "The code ran too long."));
        load();
        page.locator("#mode-interpreter").click();
        send("loop forever");
        var call = lastAssistant().locator("details.call");
        assertThat(call.locator(".call-state")).hasText("timed out");
        assertThat(call.locator(".output")).hasText("Timed out");
        assertThat(call).hasClass(java.util.regex.Pattern.compile("state-timedOut"));
    }

    @Test
    void aRunningCellCanBeStopped() {
        api.script = request -> List.of(callStart(1, "interpreter"), call(1, "interpreter", null, "import time\ntime.sleep(600)"),
                status(1, "running the code"), HOLD, result(1, "interpreter", "done", List.of(), Map.of(), false, false),
                done("answered", request, "never"));
        load();
        page.locator("#mode-interpreter").click();
        send("sleep");
        assertThat(lastAssistant().locator(".call-state")).hasText("running the code");
        page.locator("#stop").click();
        assertThat(lastAssistant().locator(".outcome")).hasText("Stopped.");
        assertThat(lastAssistant().locator(".call-state")).hasText("Stopped.");
        assertThat(api.stops).hasSize(1);
    }

    @Test
    void filesAreUploadedAnnouncedAndDownloaded(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path csv = dir.resolve("data.csv");
        Files.writeString(csv, "x,y\n1,2\n3,4\n");
        api.script = request -> {
            String id = api.files.keySet().iterator().next();
            api.files.get(id).put("result.txt", "sum=10\n".getBytes(StandardCharsets.UTF_8));
            return List.of(callStart(1, "interpreter"), call(1, "interpreter", null, "open('/mnt/data/result.txt','w')"),
                    result(1, "interpreter", "wrote result.txt", List.of(), Map.of("result.txt", 7), false, false),
                    text(2, "Done."), done("answered", request, "Done."));
        };
        load();
        page.locator("#mode-interpreter").click();
        assertThat(page.locator("#upload")).isVisible();
        page.locator("#upload-file").setInputFiles(csv);
        assertThat(page.locator("#attachments .chip")).containsText("data.csv (12 B)");
        send("Sum the columns");
        assertThat(lastAssistant()).containsText("Done.");
        String id = api.files.keySet().iterator().next();
        assertThat(new String(api.files.get(id).get("data.csv"), StandardCharsets.UTF_8)).isEqualTo("x,y\n1,2\n3,4\n");
        assertThat(api.lastTurn().get("message").get("content").asText())
                .isEqualTo("#File: /mnt/data/data.csv\n#Size: 12\n#File uploaded\nSum the columns");
        assertThat(page.locator("article.message.user .chip")).containsText("data.csv");
        assertThat(page.locator("article.message.user .content")).hasText("Sum the columns");

        var download = page.waitForDownload(() -> lastAssistant().locator("button.download").click());
        assertThat(download.suggestedFilename()).isEqualTo("result.txt");
        assertThat(Files.readString(download.path())).isEqualTo("sum=10\n");
    }

    /** A 64×48 PNG with a line on it, as matplotlib would send. */
    static String png() {
        BufferedImage image = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 64, 48);
        g.setColor(Color.BLUE);
        g.drawLine(4, 44, 60, 4);
        g.dispose();
        var out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }
}
