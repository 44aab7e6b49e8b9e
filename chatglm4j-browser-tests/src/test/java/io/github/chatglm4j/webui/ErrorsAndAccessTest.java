package io.github.chatglm4j.webui;

import com.microsoft.playwright.Page;
import io.github.chatglm4j.agent.sandbox.SandboxConfig;
import io.github.chatglm4j.webui.ScriptedServer.Hold;
import io.github.chatglm4j.webui.ScriptedServer.Reply;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Against the real server: its refusals and failures shown as messages, the API-key prompt, keyboard-only use, and
 * four conversations in flight at once.
 */
class ErrorsAndAccessTest extends BrowserTest {

    @Override
    boolean expectedConsoleError(String text) {
        // refused requests (401, 503, a stopped server) show in the console as failed resources
        return text.startsWith("Failed to load resource");
    }

    @Test
    void theApiKeyIsAskedForKeptForTheTabAndAskedAgainWhenRefused() {
        serve(ScriptedServer.start(o -> o.withApiKey("sekret")));
        page.navigate(server.url());
        // the page loads without the key; /api/info says the server needs one
        assertThat(page.locator("#key-dialog")).isVisible();
        page.locator("#key-input").fill("wrong");
        page.locator("#key-input").press("Enter");
        assertThat(page.locator("#key-dialog")).isHidden();
        send("hello");
        // the server refuses the key (401): the page asks again, then retries with the new one
        assertThat(page.locator("#key-dialog")).isVisible();
        assertThat(page.locator("#key-message")).hasText("The server did not accept this key.");
        page.locator("#key-input").fill("sekret");
        page.locator("#key-dialog button[type=submit]").click();
        assertThat(lastAssistant()).containsText("Hello!");
        assertThat(page.evaluate("() => sessionStorage.getItem('chatglm.apiKey')")).isEqualTo("sekret");
        assertThat(page.evaluate("() => localStorage.getItem('chatglm.apiKey')")).isNull();
        // kept for the tab: a reload does not ask again
        awaitTurnEnded();
        page.reload();
        send("again");
        assertThat(assistant(1)).containsText("Hello!");
        assertThat(page.locator("#key-dialog")).isHidden();
    }

    @Test
    void aFullQueueIsSaidSo() throws Exception {
        serve(ScriptedServer.withOneSlotAndNoQueue());
        Hold hold = new Hold();
        server.replies = p -> p.lastMessage().equals("one") ? Reply.text("busy", hold, " for a while") : Reply.text("free again");
        load();
        send("one");
        hold.awaitReached();
        page.locator("#new-conversation").click();
        send("two");
        assertThat(lastAssistant().locator(".error-text")).hasText("The server is busy (its queue is full). Try again in a moment.");
        assertThat(page.locator("#send")).isVisible();
        hold.release();
        page.locator("#conversation-list .conversation-open", new Page.LocatorOptions().setHasText("one")).click();
        assertThat(lastAssistant()).containsText("busy for a while");
    }

    @Test
    void tooManyCodeInterpretersIsSaidSo() {
        requireSandbox();
        serve(ScriptedServer.start(o -> o.withAgent(o.agent().withMaxWorkers(1))));
        server.replies = p -> p.answersAResult() ? Reply.text("ran") : Reply.code("print(1)");
        load();
        page.locator("#mode-interpreter").click();
        send("first");
        assertThat(lastAssistant()).containsText("ran");
        // the first conversation keeps its Python worker (variables live on); the server allows one
        page.locator("#new-conversation").click();
        page.locator("#mode-interpreter").click();
        send("second");
        assertThat(lastAssistant().locator(".error-text")).containsText("Too many code interpreters are running on the server.");
    }

    @Test
    void aServerWithoutTheSandboxSaysSo() {
        serve(ScriptedServer.start(o -> o.withAgent(o.agent().withSandbox(SandboxConfig.DEFAULTS.withBwrap(Path.of("/nonexistent/bwrap"))))));
        server.replies = p -> Reply.code("print(1)");
        load();
        page.locator("#mode-interpreter").click();
        send("run something");
        assertThat(lastAssistant().locator(".error-text")).containsText("The code interpreter is not available on the server: ");
        assertThat(lastAssistant().locator(".error-text")).containsText("/nonexistent/bwrap");
        page.locator("#open-settings").click();
        assertThat(page.locator("#interpreter-state")).containsText("The code interpreter is not available on this server: ");
        assertThat(server.prompts).as("the model was not asked").isEmpty();
    }

    @Test
    void whileTheModelLoadsABannerSaysSoAndASendIsRefused() {
        serve(ScriptedServer.loading());
        page.navigate(server.url());
        assertThat(page.locator("#banner")).hasText("The model is loading; you can send once it is ready.");
        send("too early");
        assertThat(lastAssistant().locator(".error-text")).hasText("The model is still loading. Try again in a moment.");
        server.ready();
        assertThat(page.locator("#banner")).isHidden();
        assertThat(page.locator("#model-name")).hasText(ScriptedServer.MODEL);
        send("now");
        assertThat(lastAssistant()).containsText("Hello!");
    }

    @Test
    void aServerThatIsGoneIsSaidSoNotAHang() {
        load();
        server.close();
        send("anyone there?");
        assertThat(lastAssistant().locator(".error-text")).hasText("Cannot reach the server.");
        assertThat(page.locator("#banner")).containsText("Cannot reach the server");
        assertThat(page.locator("#send")).isVisible();
    }

    @Test
    void aStreamCutOffMidReplyIsSaidSo() throws Exception {
        // the page reaches the server through a relay that drops the connection mid-reply, as a network can
        try (var network = new CuttingProxy()) {
            serve(ScriptedServer.start(o -> o.withAllowedHosts(List.of("127.0.0.1:" + network.port()))
                    .withCorsOrigins(List.of("http://127.0.0.1:" + network.port()))));
            network.target(server.server.port());
            Hold hold = new Hold();
            Reply reply = Reply.text("half a reply", hold, " and the rest");
            server.replies = p -> reply;
            page.navigate(network.url());
            assertThat(page.locator("#model-name")).hasText(ScriptedServer.MODEL);
            send("hi");
            hold.awaitReached();
            assertThat(lastAssistant()).containsText("half a reply");
            network.cut();
            assertThat(lastAssistant().locator(".error-text")).hasText("The connection to the server was lost before the reply ended.");
            assertThat(page.locator("#send")).isVisible();
            hold.release();
        }
    }

    @Test
    void theMainControlsWorkWithTheKeyboardAlone() throws Exception {
        Hold hold = new Hold();
        server.replies = p -> p.lastMessage().equals("long") ? Reply.text("going", hold, " on and on") : ChatModeTest.echo(p);
        load();
        // Tab from the start of the page reaches the message box; Enter sends, Shift+Enter is a new line
        page.locator("body").focus();
        for (int i = 0; i < 40 && !isFocused("#input"); i++) {
            page.keyboard().press("Tab");
        }
        assertThat(input()).isFocused();
        page.keyboard().type("line one");
        page.keyboard().press("Shift+Enter");
        page.keyboard().type("line two");
        page.keyboard().press("Enter");
        assertThat(page.locator("article.message.user .content")).hasText("line one\nline two");
        assertThat(lastAssistant()).containsText("re: line one");
        awaitTurnEnded(); // Enter while a turn runs sends nothing
        assertThat(server.lastPrompt().lastMessage()).isEqualTo("line one\nline two");

        // Escape stops a streaming reply
        page.keyboard().type("long");
        page.keyboard().press("Enter");
        hold.awaitReached();
        assertThat(lastAssistant()).containsText("going");
        page.waitForResponse(r -> r.url().endsWith("/stop"), () -> page.keyboard().press("Escape"));
        hold.release();
        assertThat(lastAssistant().locator(".outcome")).hasText("Stopped.");
        assertThat(lastAssistant()).not().containsText("on and on");

        // the mode tabs and the settings open and close from the keyboard
        page.locator("#mode-tool").focus();
        page.keyboard().press("Enter");
        assertThat(page.locator("#mode-tool")).hasAttribute("aria-selected", "true");
        page.locator("#open-settings").focus();
        page.keyboard().press("Enter");
        assertThat(page.locator("#close-settings")).isFocused();
        assertThat(page.locator("#tools-section")).isVisible();
        page.keyboard().press("Escape");
        assertThat(page.locator("#settings")).isHidden();
        assertThat(page.locator("#open-settings")).isFocused();
    }

    private boolean isFocused(String selector) {
        return (Boolean) page.evaluate("s => document.activeElement === document.querySelector(s)", selector);
    }

    static final List<String> CITIES = List.of("Beijing", "Shanghai", "Shenzhen", "Hangzhou");

    @Test
    void fourConversationsStreamAtOnceAndThePageStaysResponsive() throws Exception {
        requireSandbox(); // get_shell is one of the tools the page offers by default
        try (var weather = new FakeWeather()) {
            serve(ScriptedServer.start(o -> o.withAgent(o.agent().withWeather(weather.service()))));
            // conversation i asks for the weather in CITIES[i - 1], then answers in 50 tokens and more
            server.replies = p -> {
                int i = Integer.parseInt(p.lastUserMessage().substring("stream".length()));
                if (!p.answersAResult()) {
                    return Reply.call("get_weather", "```python\ntool_call(city_name='" + CITIES.get(i - 1) + "')\n```");
                }
                StringBuilder text = new StringBuilder();
                for (int t = 0; t < 50; t++) {
                    text.append("stream").append(i).append(" token").append(t).append(' ');
                }
                return Reply.text(text + "end of stream" + i);
            };
            weather.hold();
            load();
            page.locator("#mode-tool").click();
            for (int i = 1; i <= 4; i++) {
                if (i > 1) {
                    page.locator("#new-conversation").click();
                    page.locator("#mode-tool").click();
                }
                send("stream" + i);
                assertThat(lastAssistant().locator(".call-arguments")).containsText(CITIES.get(i - 1));
            }
            // all four turns are on the server at once, each waiting for its tool call, their streams open
            weather.awaitRequests(4);
            assertThat(weather.cities).containsExactlyInAnyOrderElementsOf(CITIES);
            assertThat(page.locator("#conversation-list .running-dot")).hasCount(4);
            // while all four are open: switch conversations, rename one, change a setting
            page.locator("#conversation-list .conversation-open", new Page.LocatorOptions().setHasText("stream2")).click();
            assertThat(lastAssistant().locator(".call-arguments")).containsText("Shanghai");
            assertThat(lastAssistant().locator(".call-state")).hasText("calling get_weather");
            page.locator("#conversation-list li[aria-current] .conversation-rename").click();
            page.locator("#rename-input").fill("renamed while streaming");
            page.locator("#rename-input").press("Enter");
            assertThat(page.locator("#conversation-list li[aria-current]")).containsText("renamed while streaming");
            page.locator("#open-settings").click();
            page.locator("#temperature").fill("0.3");
            assertThat(page.locator("#temperature-value")).hasText("0.30");
            page.locator("#close-settings").click();
            assertThat(page.locator("#stop")).isVisible();
            assertThat(page.locator("#conversation-list .running-dot")).hasCount(4);

            // the four results arrive together and the four answers are generated side by side
            weather.release();
            assertThat(lastAssistant()).containsText("stream2 token49 end of stream2");
            assertThat(page.locator("#conversation-list .running-dot")).hasCount(0);
            for (int i = 0; i < 4; i++) {
                page.locator("#conversation-list .conversation-open").nth(i).click();
                assertThat(lastAssistant().locator(".stats")).isVisible();
                assertThat(lastAssistant().locator(".content.markdown")).containsText(Pattern.compile("stream([1-4]) token49 end of stream\\1"));
            }
            assertThat(turns).hasSize(4);
        }
    }
}
