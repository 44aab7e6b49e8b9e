package io.github.chatglm4j.webui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static io.github.chatglm4j.webui.FakeAgentApi.HOLD;
import static io.github.chatglm4j.webui.FakeAgentApi.done;
import static io.github.chatglm4j.webui.FakeAgentApi.streamed;
import static io.github.chatglm4j.webui.FakeAgentApi.text;
import static org.assertj.core.api.Assertions.assertThat;

/** Chat mode: streaming, safe markdown, code, math, stop, regenerate, edit, reload. */
class ChatModeTest extends BrowserTest {
    static final String MARKDOWN = """
            Here is **bold** text.

            ```python
            print("hi")
            ```

            Euler: \\(e^{i\\pi} + 1 = 0\\) and
            \\[\\int_0^1 x^2 \\, dx = \\frac{1}{3}\\]
            <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>
            [click](javascript:window.__xss=3) and <a href="#" onclick="window.__xss=4">here</a>""";

    @Test
    void aReplyStreamsAsSanitizedMarkdownWithHighlightedCodeAndMath() throws Exception {
        api.script = request -> {
            List<ObjectNode> events = new ArrayList<>();
            events.add(text(1, "Here is **bold** text."));
            events.add(HOLD);
            events.addAll(streamed(1, MARKDOWN.substring("Here is **bold** text.".length()), 7));
            events.add(done("answered", request, MARKDOWN));
            return events;
        };
        load();
        send("Show me some markdown");
        assertThat(page.locator("article.message.user").first()).containsText("Show me some markdown");
        // while the reply streams: the text so far, rendered, with Stop instead of Send
        assertThat(assistant(0).locator("strong")).hasText("bold");
        assertThat(assistant(0).locator(".content.streaming")).hasCount(1);
        assertThat(page.locator("#stop")).isVisible();
        assertThat(page.locator("#send")).isHidden();
        api.release();

        assertThat(assistant(0).locator(".stats")).containsText("42 tokens");
        assertThat(assistant(0).locator(".stats")).containsText("8.3 tokens/s");
        assertThat(page.locator("#send")).isVisible();
        assertThat(assistant(0).locator(".content.streaming")).hasCount(0);
        // code: highlighted, with a copy button
        assertThat(assistant(0).locator(".code-block code.language-python")).containsText("print(\"hi\")");
        assertThat(assistant(0).locator(".code-block code .hljs-string").first()).hasText("\"hi\"");
        // math: both ChatGLM3 forms typeset by KaTeX, inline and display
        assertThat(assistant(0).locator(".katex")).hasCount(2);
        assertThat(assistant(0).locator(".katex-display")).hasCount(1);
        // model text cannot run script: no handlers, no javascript: links, no script elements
        assertThat(assistant(0).locator("img[onerror], [onclick], script, a[href^='javascript']")).hasCount(0);
        assertThat(page.evaluate("() => window.__xss === undefined")).isEqualTo(true);
    }

    @Test
    void theCopyButtonCopiesTheCode() {
        context.grantPermissions(List.of("clipboard-read", "clipboard-write"));
        api.script = request -> List.of(text(1, "```python\nx = 1\nprint(x)\n```"), done("answered", request, "..."));
        load();
        send("code please");
        assistant(0).locator(".code-block button.copy").click();
        assertThat(assistant(0).locator(".code-block button.copy")).hasText("Copied");
        assertThat(page.evaluate("() => navigator.clipboard.readText()")).isEqualTo("x = 1\nprint(x)");
    }

    @Test
    void stopEndsTheTurnAndKeepsThePartialReply() {
        api.script = request -> List.of(text(1, "one two"), HOLD, text(1, " three"), done("answered", request, "one two three"));
        load();
        send("count");
        assertThat(lastAssistant()).containsText("one two");
        page.locator("#stop").click();
        assertThat(lastAssistant().locator(".outcome")).hasText("Stopped.");
        assertThat(page.locator("#send")).isVisible();
        assertThat(lastAssistant()).not().containsText("three");
        assertThat(api.stops).hasSize(1);

        // the next turn continues after the partial reply
        api.script = request -> List.of(text(1, "four"), done("answered", request, "four"));
        send("go on");
        assertThat(lastAssistant()).containsText("four");
        JsonNode history = api.lastTurn().get("history");
        assertThat(history.get(0).get("content").asText()).isEqualTo("count");
        assertThat(history.get(1).get("content").asText()).isEqualTo("one two");
    }

    @Test
    void clearingWhileAReplyStreamsLeavesAnEmptyConversation() {
        api.script = request -> List.of(text(1, "partial"), HOLD, done("answered", request, "partial"));
        load();
        send("first");
        assertThat(lastAssistant()).containsText("partial");
        page.locator("#clear").click();
        page.locator("#confirm-ok").click();
        assertThat(page.locator(".empty")).isVisible();
        assertThat(page.locator("#send")).isVisible();
        api.script = request -> List.of(text(1, "fresh"), done("answered", request, "fresh"));
        send("second");
        assertThat(lastAssistant()).containsText("fresh");
        assertThat(api.lastTurn().get("history")).as("nothing of the cleared exchange").isEmpty();
        assertThat(page.locator("article.message")).hasCount(2);
    }

    @Test
    void regenerateAsksAgainFromTheLastUserMessage() {
        int[] n = {0};
        api.script = request -> {
            String answer = "answer " + (++n[0]);
            return List.of(text(1, answer), done("answered", request, answer));
        };
        load();
        send("first");
        assertThat(assistant(0)).containsText("answer 1");
        send("second");
        assertThat(assistant(1)).containsText("answer 2");
        page.locator("#regenerate").click();
        assertThat(assistant(1)).containsText("answer 3");
        assertThat(page.locator("article.message.assistant")).hasCount(2);
        JsonNode last = api.lastTurn();
        assertThat(last.get("message").get("content").asText()).isEqualTo("second");
        assertThat(last.get("history")).hasSize(2);
        assertThat(last.get("history").get(1).get("content").asText()).isEqualTo("answer 1");
    }

    @Test
    void editingAnEarlierMessageContinuesFromThere() {
        api.script = request -> {
            String answer = "re: " + request.get("message").get("content").asText();
            return List.of(text(1, answer), done("answered", request, answer));
        };
        load();
        send("first question");
        assertThat(assistant(0)).containsText("re: first question");
        send("second question");
        assertThat(assistant(1)).containsText("re: second question");

        page.locator("article.message.user").first().hover();
        page.locator("article.message.user").first().locator("button.edit").click();
        page.locator("textarea.edit-input").fill("better first question");
        page.locator("button.edit-send").click();
        assertThat(assistant(0)).containsText("re: better first question");
        assertThat(page.locator("article.message")).hasCount(2);
        assertThat(api.lastTurn().get("history")).isEmpty();
        assertThat(api.lastTurn().get("message").get("content").asText()).isEqualTo("better first question");
    }

    @Test
    void aConversationSurvivesAPageReload() {
        api.script = request -> {
            String answer = "re: " + request.get("message").get("content").asText();
            return List.of(text(1, answer), done("answered", request, answer));
        };
        load();
        send("remember me");
        assertThat(assistant(0)).containsText("re: remember me");
        page.reload();
        assertThat(page.locator("article.message.user")).hasText(java.util.regex.Pattern.compile("remember me"));
        assertThat(assistant(0)).containsText("re: remember me");
        assertThat(page.locator("#conversation-list li[aria-current] .conversation-open")).containsText("remember me");
        send("and then?");
        assertThat(assistant(1)).containsText("re: and then?");
        assertThat(api.lastTurn().get("history")).hasSize(2);
    }

    @Test
    void systemPromptAndSamplingSettingsAreSentWithTheReferenceDefaults() {
        load();
        page.locator("#open-settings").click();
        assertThat(page.locator("#max-tokens")).hasValue("256");
        assertThat(page.locator("#temperature-value")).hasText("0.95");
        assertThat(page.locator("#top-p-value")).hasText("0.80");
        assertThat(page.locator("#repetition-penalty-value")).hasText("1.10");
        assertThat(page.locator("#system-prompt")).hasValue(java.util.regex.Pattern.compile("^You are ChatGLM3"));
        page.locator("#system-prompt").fill("You are a pirate.");
        page.locator("#max-tokens").fill("512");
        page.locator("#max-tokens").press("Tab");
        page.locator("#temperature").fill("0.5");
        page.locator("#close-settings").click();
        send("hello");
        assertThat(assistant(0)).containsText("Hello!");
        JsonNode turn = api.lastTurn();
        assertThat(turn.get("mode").asText()).isEqualTo("chat");
        assertThat(turn.get("system").asText()).isEqualTo("You are a pirate.");
        assertThat(turn.get("sampling").get("max_tokens").asInt()).isEqualTo(512);
        assertThat(turn.get("sampling").get("temperature").asDouble()).isEqualTo(0.5);
        assertThat(turn.get("sampling").get("top_p").asDouble()).isEqualTo(0.8);
        assertThat(turn.get("sampling").get("repetition_penalty").asDouble()).isEqualTo(1.1);
    }

    @Test
    void conversationsCanBeRenamedDeletedExportedAndImported() throws Exception {
        api.script = request -> {
            String answer = "re: " + request.get("message").get("content").asText();
            return List.of(text(1, answer), done("answered", request, answer));
        };
        load();
        send("alpha");
        assertThat(assistant(0)).containsText("re: alpha");
        page.locator("#new-conversation").click();
        send("beta");
        assertThat(assistant(0)).containsText("re: beta");
        var items = page.locator("#conversation-list .conversation");
        assertThat(items).hasCount(2);

        items.first().locator(".conversation-rename").click();
        page.locator("#rename-input").fill("Renamed beta");
        page.locator("#rename-input").press("Enter");
        assertThat(items.first()).containsText("Renamed beta");

        var download = page.waitForDownload(() -> page.locator("#export").click());
        String exported = java.nio.file.Files.readString(download.path());
        JsonNode json = FakeAgentApi.JSON.readTree(exported);
        assertThat(json.get("format").asText()).isEqualTo("chatglm4j-conversations");
        assertThat(json.get("conversations")).hasSize(2);

        items.first().locator(".conversation-delete").click();
        page.locator("#confirm-ok").click();
        assertThat(items).hasCount(1);
        assertThat(items.first()).containsText("alpha");
        assertThat(assistant(0)).containsText("re: alpha");

        page.locator("#import-file").setInputFiles(download.path());
        assertThat(items).hasCount(3);
        assertThat(page.locator("#notice")).containsText("Imported 2 conversations");
        assertThat(page.locator("#conversation-list")).containsText("Renamed beta");
    }

    @Test
    void themeAndLanguageSwitchAndStay() {
        load();
        String theme = (String) page.evaluate("() => document.documentElement.dataset.theme");
        page.locator("#theme").click();
        String other = theme.equals("dark") ? "light" : "dark";
        assertThat(page.locator("html")).hasAttribute("data-theme", other);
        page.locator("#language").click();
        assertThat(page.locator("#send")).hasText("发送");
        assertThat(page.locator("#mode-interpreter")).containsText("代码解释器");
        assertThat(page.locator("html")).hasAttribute("lang", "zh-CN");
        page.reload();
        assertThat(page.locator("#send")).hasText("发送");
        assertThat(page.locator("html")).hasAttribute("data-theme", other);
        page.locator("#language").click();
        assertThat(page.locator("#send")).hasText("Send");
    }

    @Test
    void thePageComesWithAContentSecurityPolicy() {
        var response = page.navigate(api.url());
        assertThat(response.headerValue("content-security-policy")).contains("script-src 'self'").contains("connect-src 'self'");
        assertThat(response.headerValue("x-content-type-options")).isEqualTo("nosniff");
    }

}
