package io.github.chatglm4j.webui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static io.github.chatglm4j.webui.FakeAgentApi.call;
import static io.github.chatglm4j.webui.FakeAgentApi.callStart;
import static io.github.chatglm4j.webui.FakeAgentApi.code;
import static io.github.chatglm4j.webui.FakeAgentApi.done;
import static io.github.chatglm4j.webui.FakeAgentApi.entry;
import static io.github.chatglm4j.webui.FakeAgentApi.result;
import static io.github.chatglm4j.webui.FakeAgentApi.status;
import static io.github.chatglm4j.webui.FakeAgentApi.streamed;
import static io.github.chatglm4j.webui.FakeAgentApi.text;

/**
 * Writes docs/screenshots/{chat,tool,interpreter}-{desktop,phone}.png: the three modes with scripted replies, at
 * desktop width in the light theme and at phone width in the dark theme. Run by scripts/screenshots.sh.
 */
public final class Screenshots {
    static final String CHAT_QUESTION = "How do I solve a quadratic equation? Show it in Python.";
    static final String CHAT_ANSWER = """
            A quadratic equation \\(ax^2 + bx + c = 0\\) with \\(a \\neq 0\\) has the roots

            \\[x = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}\\]

            The sign of the **discriminant** \\(\\Delta = b^2 - 4ac\\) tells how many real roots there are.

            ```python
            import math

            def solve(a, b, c):
                d = b * b - 4 * a * c
                if d < 0:
                    return []
                r = math.sqrt(d)
                return sorted({(-b - r) / (2 * a), (-b + r) / (2 * a)})

            print(solve(1, -3, 2))  # [1.0, 2.0]
            ```""";

    private Screenshots() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "docs/screenshots");
        Files.createDirectories(out);
        try (var api = new FakeAgentApi(); var chromium = Chromium.launch()) {
            api.script = Screenshots::reply;
            for (boolean phone : new boolean[]{false, true}) {
                Browser.NewContextOptions options = new Browser.NewContextOptions().setLocale("en-US")
                        .setColorScheme(phone ? com.microsoft.playwright.options.ColorScheme.DARK : com.microsoft.playwright.options.ColorScheme.LIGHT);
                options = phone ? options.setViewportSize(390, 844).setIsMobile(true).setHasTouch(true).setDeviceScaleFactor(2)
                        : options.setViewportSize(1280, 800);
                try (BrowserContext context = chromium.browser.newContext(options)) {
                    Page page = context.newPage();
                    page.navigate(api.url());
                    assertThat(page.locator("#model-name")).hasText("chatglm3-6b (scripted)");
                    String suffix = phone ? "phone" : "desktop";
                    shoot(page, "chat", CHAT_QUESTION, ".stats", out.resolve("chat-" + suffix + ".png"));
                    shoot(page, "tool", "What is the weather like in Beijing?", ".stats", out.resolve("tool-" + suffix + ".png"));
                    shoot(page, "interpreter", "Plot sin(x) for x from 0 to 2π", ".stats", out.resolve("interpreter-" + suffix + ".png"));
                }
            }
        }
        System.out.println("screenshots written to " + out.toAbsolutePath());
    }

    private static void shoot(Page page, String mode, String question, String doneSelector, Path file) {
        page.locator("#mode-" + mode).click();
        page.locator("#input").fill(question);
        page.locator("#send").click();
        assertThat(page.locator("article.message.assistant").last().locator(doneSelector)).isVisible();
        if (mode.equals("interpreter")) {
            assertThat(page.locator("img.figure").last()).isVisible();
        }
        page.evaluate("() => document.fonts.ready");
        // the interpreter's figure is at the end of its reply; the chat's math and code at the start
        page.locator("#messages").evaluate(mode.equals("interpreter") ? "m => m.scrollTop = m.scrollHeight" : "m => m.scrollTop = 0");
        page.screenshot(new Page.ScreenshotOptions().setPath(file));
        System.out.println("wrote " + file);
    }

    private static List<ObjectNode> reply(JsonNode request) {
        String mode = request.get("mode").asText();
        List<ObjectNode> events = new ArrayList<>();
        switch (mode) {
            case "tool" -> {
                String callText = "```python\ntool_call(city_name='Beijing')\n```";
                String observation = "{\"city\": \"Beijing\", \"temperature_c\": 24, \"sky\": \"Sunny\", \"humidity\": 31, \"wind_kmph\": 9}";
                String answer = "It is **sunny** in Beijing right now: 24 °C, humidity 31 %, a light wind of 9 km/h.";
                events.add(callStart(1, "get_weather"));
                events.add(code(1, callText));
                events.add(call(1, "get_weather", "{\"city_name\": \"Beijing\"}", null));
                events.add(result(1, "get_weather", observation, List.of(), Map.of(), false, false));
                events.addAll(streamed(2, answer, 12));
                events.add(done("answered", request, answer, entry("assistant", callText, "get_weather"),
                        entry("observation", observation, "get_weather")));
            }
            case "interpreter" -> {
                String source = "import numpy as np\nimport matplotlib.pyplot as plt\n\nx = np.linspace(0, 2 * np.pi, 200)\n"
                        + "plt.plot(x, np.sin(x))\nplt.title('sin(x)')\nplt.grid(True)\nplt.savefig('/mnt/data/sin.png')\nplt.show()";
                String answer = "Here is the plot of \\(\\sin(x)\\) on \\([0, 2\\pi]\\); I also saved it as `sin.png`.";
                events.add(text(1, "Sure, let me plot it."));
                events.add(callStart(1, "interpreter"));
                events.addAll(streamed(1, "```python\n" + source + "\n```", 16).stream().map(e -> code(1, e.get("text").asText())).toList());
                events.add(call(1, "interpreter", null, source));
                events.add(status(1, "running the code"));
                events.add(result(1, "interpreter", "[Image]", List.of(sinePng()), Map.of("sin.png", 28_416), false, false));
                events.addAll(streamed(2, answer, 12));
                events.add(done("answered", request, answer));
            }
            default -> {
                events.addAll(streamed(1, CHAT_ANSWER, 12));
                events.add(done("answered", request, CHAT_ANSWER));
            }
        }
        return events;
    }

    /** A plot of sin(x) drawn the way matplotlib's default style looks, standing in for the sandbox's figure. */
    static String sinePng() {
        int w = 640;
        int h = 400;
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        int left = 60;
        int top = 40;
        int right = w - 20;
        int bottom = h - 40;
        g.setColor(new Color(0xDDDDDD));
        for (int i = 0; i <= 8; i++) {
            int x = left + (right - left) * i / 8;
            g.drawLine(x, top, x, bottom);
        }
        for (int i = 0; i <= 4; i++) {
            int y = top + (bottom - top) * i / 4;
            g.drawLine(left, y, right, y);
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, right - left, bottom - top);
        g.drawString("sin(x)", w / 2 - 15, 25);
        for (int i = 0; i <= 4; i++) {
            g.drawString(String.format("%.1f", 1 - i * 0.5), 25, top + (bottom - top) * i / 4 + 4);
        }
        g.setColor(new Color(0x1F77B4));
        g.setStroke(new BasicStroke(2f));
        int px = -1;
        int py = -1;
        for (int i = 0; i <= 200; i++) {
            double x = 2 * Math.PI * i / 200;
            int sx = left + (int) Math.round((right - left) * i / 200.0);
            int sy = (int) Math.round(top + (bottom - top) * (1 - Math.sin(x)) / 2);
            if (px >= 0) {
                g.drawLine(px, py, sx, sy);
            }
            px = sx;
            py = sy;
        }
        g.dispose();
        var bytes = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", bytes);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return Base64.getEncoder().encodeToString(bytes.toByteArray());
    }
}
