package io.github.chatglm4j.webui;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static io.github.chatglm4j.webui.FakeAgentApi.HOLD;
import static io.github.chatglm4j.webui.FakeAgentApi.done;
import static io.github.chatglm4j.webui.FakeAgentApi.error;
import static io.github.chatglm4j.webui.FakeAgentApi.errorBody;
import static io.github.chatglm4j.webui.FakeAgentApi.text;
import static org.assertj.core.api.Assertions.assertThat;

/** Errors shown as messages, the API-key prompt, keyboard-only use. */
class ErrorsAndAccessTest extends BrowserTest {

    @Override
    boolean expectedConsoleError(String text) {
        // refused requests (401, 503, a stopped server) show in the console as failed resources
        return text.startsWith("Failed to load resource");
    }

    @Test
    void theApiKeyIsAskedForKeptForTheTabAndAskedAgainWhenRefused() {
        api.apiKey = "sekret";
        page.navigate(api.url());
        assertThat(page.locator("#key-dialog")).isVisible();
        page.locator("#key-input").fill("sekret");
        page.locator("#key-input").press("Enter");
        assertThat(page.locator("#key-dialog")).isHidden();
        send("hello");
        assertThat(lastAssistant()).containsText("Hello!");
        assertThat(api.authorizations).contains("Bearer sekret");
        assertThat(page.evaluate("() => sessionStorage.getItem('chatglm.apiKey')")).isEqualTo("sekret");
        assertThat(page.evaluate("() => localStorage.getItem('chatglm.apiKey')")).isNull();

        api.apiKey = "rotated";
        send("again");
        assertThat(page.locator("#key-dialog")).isVisible();
        assertThat(page.locator("#key-message")).hasText("The server did not accept this key.");
        page.locator("#key-input").fill("rotated");
        page.locator("#key-dialog button[type=submit]").click();
        assertThat(lastAssistant()).containsText("Hello!");
        assertThat(api.authorizations).contains("Bearer rotated");
    }

    @Test
    void serverErrorsAreReadableMessages() {
        load();
        api.refuseStatus = 503;
        api.refuseTurns = errorBody("The queue is full", "server_busy");
        send("one");
        assertThat(lastAssistant().locator(".error-text")).hasText("The server is busy (its queue is full). Try again in a moment.");
        api.refuseTurns = errorBody("Loading the model", "model_loading");
        send("two");
        assertThat(lastAssistant().locator(".error-text")).hasText("The model is still loading. Try again in a moment.");
        api.refuseTurns = errorBody("4 code interpreters run already", "too_many_workers");
        send("three");
        assertThat(lastAssistant().locator(".error-text")).containsText("Too many code interpreters");
        api.refuseTurns = null;
        api.script = request -> List.of(text(1, "Let me"), error("sandbox_unavailable", "bwrap is not installed"));
        send("four");
        assertThat(lastAssistant().locator(".error-text")).hasText("The code interpreter is not available on the server: bwrap is not installed");
        assertThat(page.locator("#send")).isVisible();
    }

    @Test
    void aServerThatIsGoneIsSaidSoNotAHang() {
        load();
        api.close();
        send("anyone there?");
        assertThat(lastAssistant().locator(".error-text")).hasText("Cannot reach the server.");
        assertThat(page.locator("#banner")).containsText("Cannot reach the server");
        assertThat(page.locator("#send")).isVisible();
    }

    @Test
    void aStreamCutOffMidReplyIsSaidSo() {
        api.script = request -> List.of(text(1, "half a rep"));
        load();
        send("hi");
        assertThat(lastAssistant().locator(".error-text")).hasText("The connection to the server was lost before the reply ended.");
    }

    @Test
    void whileTheModelLoadsABannerSaysSo() {
        api.ready = false;
        page.navigate(api.url());
        assertThat(page.locator("#banner")).hasText("The model is loading; you can send once it is ready.");
        api.ready = true;
        assertThat(page.locator("#banner")).isHidden();
    }

    @Test
    void theMainControlsWorkWithTheKeyboardAlone() {
        api.script = request -> {
            String said = request.get("message").get("content").asText();
            if (said.equals("long")) {
                return List.of(text(1, "going"), HOLD, done("answered", request, "going"));
            }
            return List.of(text(1, "re: " + said), done("answered", request, "re: " + said));
        };
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

        // Escape stops a streaming reply
        page.keyboard().type("long");
        page.keyboard().press("Enter");
        assertThat(lastAssistant()).containsText("going");
        page.keyboard().press("Escape");
        assertThat(lastAssistant().locator(".outcome")).hasText("Stopped.");

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

    @Test
    void fourConversationsStreamAtOnceAndThePageStaysResponsive() throws Exception {
        api.script = request -> {
            String said = request.get("message").get("content").asText();
            List<com.fasterxml.jackson.databind.node.ObjectNode> events = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                events.add(text(1, said + " token" + i + " "));
            }
            events.add(HOLD);
            events.add(text(1, "end of " + said));
            events.add(done("answered", request, "end of " + said));
            return events;
        };
        load();
        for (int i = 1; i <= 4; i++) {
            if (i > 1) {
                page.locator("#new-conversation").click();
            }
            send("stream" + i);
            assertThat(lastAssistant()).containsText("stream" + i + " token49");
        }
        api.awaitHeld(4);
        assertThat(page.locator("#conversation-list .running-dot")).hasCount(4);
        // while all four are open: switch conversations, rename one, change a setting
        page.locator("#conversation-list .conversation-open", new com.microsoft.playwright.Page.LocatorOptions().setHasText("stream2")).click();
        assertThat(lastAssistant()).containsText("stream2 token49");
        page.locator("#conversation-list li[aria-current] .conversation-rename").click();
        page.locator("#rename-input").fill("renamed while streaming");
        page.locator("#rename-input").press("Enter");
        assertThat(page.locator("#conversation-list li[aria-current]")).containsText("renamed while streaming");
        page.locator("#open-settings").click();
        page.locator("#temperature").fill("0.3");
        assertThat(page.locator("#temperature-value")).hasText("0.30");
        page.locator("#close-settings").click();
        assertThat(page.locator("#stop")).isVisible();
        api.releaseAll(4);
        assertThat(lastAssistant()).containsText("end of stream2");
        assertThat(page.locator("#conversation-list .running-dot")).hasCount(0);
        for (int i = 1; i <= 4; i++) {
            page.locator("#conversation-list .conversation-open").nth(i - 1).click();
            assertThat(lastAssistant().locator(".stats")).isVisible();
        }
        assertThat(api.turns).hasSize(4);
    }
}
