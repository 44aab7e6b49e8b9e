package io.github.chatglm4j.webui;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.ConsoleMessage;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One Chromium per test class, a fresh browser context (empty storage) and server per test. Waits are Playwright's
 * auto-waiting locators and assertions (up to 30 s on a busy machine), never sleeps. Every test also checks that
 * the page logged no error and broke no Content-Security-Policy rule.
 */
abstract class BrowserTest {
    static Chromium chromium;
    FakeAgentApi api;
    BrowserContext context;
    Page page;
    final List<String> consoleErrors = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void launch() {
        PlaywrightAssertions.setDefaultAssertionTimeout(30_000);
        chromium = Chromium.launch();
    }

    @AfterAll
    static void quit() {
        if (chromium != null) {
            chromium.close();
        }
    }

    @BeforeEach
    void open() throws Exception {
        api = new FakeAgentApi();
        context = chromium.browser.newContext(contextOptions());
        context.setDefaultTimeout(30_000);
        page = context.newPage();
        page.onConsoleMessage(this::console);
        page.onPageError(e -> consoleErrors.add("page error: " + e));
    }

    Browser.NewContextOptions contextOptions() {
        return new Browser.NewContextOptions().setViewportSize(1280, 860).setLocale("en-US").setAcceptDownloads(true);
    }

    private void console(ConsoleMessage m) {
        if (m.type().equals("error") && !expectedConsoleError(m.text())) {
            consoleErrors.add(m.text());
        }
    }

    /** Errors a test provokes on purpose (a refused request shows in the console as a failed resource). */
    boolean expectedConsoleError(String text) {
        return false;
    }

    @AfterEach
    void close() {
        try {
            assertThat(consoleErrors).as("console errors and CSP violations").isEmpty();
        } finally {
            context.close();
            api.close();
        }
    }

    void load() {
        page.navigate(api.url());
        PlaywrightAssertions.assertThat(page.locator("#model-name")).hasText("chatglm3-6b (scripted)");
    }

    Locator input() {
        return page.locator("#input");
    }

    void send(String text) {
        input().fill(text);
        page.locator("#send").click();
    }

    Locator assistant(int n) {
        return page.locator("article.message.assistant").nth(n);
    }

    Locator lastAssistant() {
        return page.locator("article.message.assistant").last();
    }
}
