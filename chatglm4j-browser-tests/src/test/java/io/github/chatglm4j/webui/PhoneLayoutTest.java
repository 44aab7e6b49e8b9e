package io.github.chatglm4j.webui;

import com.microsoft.playwright.Browser;
import io.github.chatglm4j.webui.ScriptedServer.Reply;
import org.junit.jupiter.api.Test;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/** At phone width, against the real server (390×844, touch): one column, the conversation list and settings as drawers, nothing wider than the screen. */
class PhoneLayoutTest extends BrowserTest {
    @Override
    Browser.NewContextOptions contextOptions() {
        return super.contextOptions().setViewportSize(390, 844).setIsMobile(true).setHasTouch(true).setDeviceScaleFactor(2);
    }

    @Test
    void thePageFitsAPhoneAndItsDrawersOpenAndClose() {
        String longLine = "x".repeat(200);
        server.replies = p -> Reply.text("A long line: " + longLine + "\n\n```python\nprint('" + longLine + "')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |");
        load();
        assertThat(page.locator("#sidebar")).not().isInViewport();
        assertThat(page.locator("#open-sidebar")).isVisible();
        send("phone");
        assertThat(lastAssistant().locator(".stats")).isVisible();
        assertThat(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")).isEqualTo(true);
        assertThat(page.evaluate("() => document.querySelector('#messages').scrollWidth <= document.querySelector('#messages').clientWidth"))
                .isEqualTo(true);
        for (String control : new String[]{"#input", "#send", "#open-settings", "#mode-chat", "#mode-tool", "#mode-interpreter"}) {
            assertThat(page.locator(control)).isInViewport();
        }

        page.locator("#open-sidebar").click();
        assertThat(page.locator("#sidebar")).isInViewport();
        assertThat(page.locator("#conversation-list .conversation")).hasCount(1);
        page.locator("#new-conversation").click();
        assertThat(page.locator("#sidebar")).not().isInViewport();
        assertThat(page.locator(".empty")).isVisible();

        page.locator("#open-settings").click();
        assertThat(page.locator("#settings")).isInViewport();
        assertThat(page.locator("#close-settings")).isInViewport();
        page.locator("#close-settings").click();
        assertThat(page.locator("#settings")).isHidden();
    }
}
