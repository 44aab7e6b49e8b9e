package io.github.chatglm4j.webui;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.generate.BatchScheduler;
import io.github.chatglm4j.server.Backend;
import io.github.chatglm4j.server.OpenAiServer;
import io.github.chatglm4j.server.ServerOptions;
import io.github.chatglm4j.testing.Fixtures;
import io.github.chatglm4j.testing.ScriptedModel;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The page as the real server serves it (OpenAiServer with a scripted model and an API key), in Chromium: every
 * script, style and font comes from the jar and loads under the Content-Security-Policy, the libraries work, and the
 * page needs no key to load.
 */
class RealServerPageTest {
    static Chromium chromium;
    static OpenAiServer server;
    static BatchScheduler scheduler;

    @BeforeAll
    static void start() {
        ChatGLMTokenizer tokenizer = ChatGLMTokenizer.load(Fixtures.root().resolve("tiny-chatglm3/tokenizer.model"));
        scheduler = new BatchScheduler(ScriptedModel.replying(8192, ScriptedModel.fixed(new int[]{ChatGLMTokenizer.EOS})), tokenizer, 1, 4);
        server = OpenAiServer.start(ServerOptions.local(0).withApiKey("sekret"));
        server.ready(new Backend("scripted", tokenizer, new PromptBuilder(tokenizer), scheduler, 0));
        chromium = Chromium.launch();
    }

    @AfterAll
    static void stop() {
        if (chromium != null) {
            chromium.close();
        }
        server.close();
        scheduler.close();
    }

    @Test
    void everyAssetLoadsFromTheJarUnderThePolicyAndTheLibrariesWork() {
        try (BrowserContext context = chromium.browser.newContext()) {
            Page page = context.newPage();
            List<String> problems = new CopyOnWriteArrayList<>();
            List<String> failed = new CopyOnWriteArrayList<>();
            page.onConsoleMessage(m -> {
                if (m.type().equals("error") && !m.text().startsWith("Failed to load resource")) {
                    problems.add(m.text());
                }
            });
            page.onPageError(e -> problems.add(e));
            page.onRequestFailed(r -> failed.add(r.url()));
            page.onResponse(r -> {
                if (r.status() >= 400 && !r.url().contains("/api/")) {
                    failed.add(r.status() + " " + r.url());
                }
            });
            var response = page.navigate(server.pageUrl());
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.headerValue("content-security-policy")).contains("script-src 'self'");
            assertThat(page.locator("#send")).isVisible();
            assertThat(page.locator("#mode-chat")).hasAttribute("aria-selected", "true");
            // the four libraries, each from the jar, used the way render.js uses them
            Object html = page.evaluate("""
                    () => {
                      const md = new window.marked.Marked().parse('**x** `y`');
                      const clean = window.DOMPurify.sanitize('<a href="javascript:alert(1)">a</a>' + md);
                      const code = window.hljs.highlight('print(1)', {language: 'python'}).value;
                      const tex = window.katex.renderToString('x^2');
                      return [clean, code.includes('hljs-built_in'), tex.includes('katex')].join('|');
                    }""");
            assertThat(html.toString()).isEqualTo("<a>a</a><p><strong>x</strong> <code>y</code></p>\n|true|true");
            // KaTeX's font is fetched from the jar when math is shown
            page.evaluate("() => { const d = document.createElement('div'); d.innerHTML = window.katex.renderToString('\\\\sum x'); document.body.append(d); }");
            assertThat(page.evaluate("() => document.fonts.load('20px KaTeX_Main').then(f => f.length > 0)")).isEqualTo(true);
            assertThat(problems).as("console errors and CSP violations").isEmpty();
            assertThat(failed).as("assets that failed to load").isEmpty();
        }
    }
}
