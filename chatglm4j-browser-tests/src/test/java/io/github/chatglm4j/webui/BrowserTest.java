package io.github.chatglm4j.webui;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.ConsoleMessage;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Request;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import io.github.chatglm4j.agent.testing.Sandboxes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One Chromium per test class; per test a fresh browser context (empty storage) and a fresh {@link ScriptedServer}:
 * the real server with a scripted model and the real sandbox. Waits are Playwright's auto-waiting locators and
 * assertions (up to 30 s on a busy machine) or the server's hold points, never sleeps. Every test also checks that
 * the page logged no error and broke no Content-Security-Policy rule.
 */
abstract class BrowserTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Chromium chromium;
    ScriptedServer server;
    BrowserContext context;
    Page page;
    final List<String> consoleErrors = new CopyOnWriteArrayList<>();
    /** The bodies of the turns the page sent, in order. */
    final List<JsonNode> turns = new CopyOnWriteArrayList<>();

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
    void open() {
        server = ScriptedServer.start();
        context = chromium.browser.newContext(contextOptions());
        context.setDefaultTimeout(30_000);
        page = context.newPage();
        page.onConsoleMessage(this::console);
        page.onPageError(e -> consoleErrors.add("page error: " + e));
        page.onRequest(this::recordTurn);
    }

    /** Replaces the test's server (a test that needs other options); the page must then be loaded from it. */
    void serve(ScriptedServer other) {
        server.close();
        server = other;
    }

    /** Fails, saying what to install, unless code can run in the sandbox here (it must in CI and in development). */
    static void requireSandbox() {
        Sandboxes.open();
    }

    private void recordTurn(Request r) {
        if (r.method().equals("POST") && r.url().endsWith("/turn")) {
            try {
                turns.add(JSON.readTree(r.postData()));
            } catch (JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        }
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
            server.close();
        }
    }

    void load() {
        page.navigate(server.url());
        PlaywrightAssertions.assertThat(page.locator("#model-name")).hasText(ScriptedServer.MODEL);
    }

    /**
     * Waits until the current conversation's turn has ended on the page: Send comes back only after the page has
     * stored the turn (a reload, an export or a key press before that would race with it).
     */
    void awaitTurnEnded() {
        PlaywrightAssertions.assertThat(page.locator("#send")).isVisible();
    }

    JsonNode lastTurn() {
        return turns.getLast();
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
