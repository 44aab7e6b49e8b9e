package io.github.chatglm4j.webui;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.ColorScheme;
import io.github.chatglm4j.agent.testing.Sandboxes;
import io.github.chatglm4j.webui.ScriptedServer.Prompt;
import io.github.chatglm4j.webui.ScriptedServer.Reply;

import java.nio.file.Files;
import java.nio.file.Path;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;

/**
 * Writes docs/screenshots/{chat,tool,interpreter}-{desktop,phone}.png: the three modes against the real server with a
 * scripted model (get_weather asks a loopback stand-in for wttr.in; the interpreter's code runs in the real sandbox,
 * so the figure is matplotlib's), at desktop width in the light theme and at phone width in the dark theme. Run by
 * scripts/screenshots.sh.
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
        Sandboxes.open(); // the interpreter's figure is drawn in the sandbox: say what is missing, if anything
        try (var weather = new FakeWeather();
             var server = ScriptedServer.start(o -> o.withAgent(o.agent().withWeather(weather.service())));
             var chromium = Chromium.launch()) {
            server.replies = Screenshots::reply;
            for (boolean phone : new boolean[]{false, true}) {
                Browser.NewContextOptions options = new Browser.NewContextOptions().setLocale("en-US")
                        .setColorScheme(phone ? ColorScheme.DARK : ColorScheme.LIGHT);
                options = phone ? options.setViewportSize(390, 844).setIsMobile(true).setHasTouch(true).setDeviceScaleFactor(2)
                        : options.setViewportSize(1280, 800);
                try (BrowserContext context = chromium.browser.newContext(options)) {
                    Page page = context.newPage();
                    page.navigate(server.url());
                    assertThat(page.locator("#model-name")).hasText(ScriptedServer.MODEL);
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

    /** The model's replies: by the system prompt the server built for the mode, then by what it has seen. */
    private static Reply reply(Prompt p) {
        String system = p.transcript().getFirst();
        if (system.startsWith("system: Answer the following questions")) {
            return p.answersAResult()
                    ? Reply.text("It is **sunny** in Beijing right now: 24 °C (it feels like 23 °C), with a humidity of 31 %.")
                    : Reply.call("get_weather", "```python\ntool_call(city_name='Beijing')\n```");
        }
        if (system.startsWith("system: 你是一位智能AI助手")) {
            return p.answersAResult()
                    ? Reply.text("Here is the plot of \\(\\sin(x)\\) on \\([0, 2\\pi]\\); I also saved it as `sin.png`.")
                    : Reply.code(SINE);
        }
        return Reply.text(CHAT_ANSWER);
    }

    static final String SINE = """
            import numpy as np
            import matplotlib.pyplot as plt

            x = np.linspace(0, 2 * np.pi, 200)
            plt.plot(x, np.sin(x))
            plt.title('sin(x)')
            plt.grid(True)
            plt.savefig('/mnt/data/sin.png')
            plt.show()""";
}
