package io.github.chatglm4j.webui;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.webui.ScriptedServer.Hold;
import io.github.chatglm4j.webui.ScriptedServer.Reply;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/** Chat mode against the real server: streaming, safe markdown, code, math, stop, regenerate, edit, reload. */
class ChatModeTest extends BrowserTest {
    static final String FIRST_LINE = "Here is **bold** text.";
    static final String MARKDOWN_REST = """


            ```python
            print("hi")
            ```

            Euler: \\(e^{i\\pi} + 1 = 0\\) and
            \\[\\int_0^1 x^2 \\, dx = \\frac{1}{3}\\]
            <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>
            [click](javascript:window.__xss=3) and <a href="#" onclick="window.__xss=4">here</a>""";

    static final String SYSTEM_PROMPT = "You are ChatGLM3, a large language model trained by Zhipu.AI. "
            + "Follow the user's instructions carefully. Respond using markdown.";

    /** The model answers "re: " and the user's last message. */
    static Reply echo(ScriptedServer.Prompt p) {
        return Reply.text("re: " + p.lastMessage());
    }

    @Test
    void aReplyStreamsAsSanitizedMarkdownWithHighlightedCodeAndMath() throws Exception {
        Hold hold = new Hold();
        Reply reply = Reply.text(FIRST_LINE, hold, MARKDOWN_REST);
        server.replies = p -> reply;
        load();
        send("Show me some markdown");
        assertThat(page.locator("article.message.user").first()).containsText("Show me some markdown");
        // while the reply streams (the model waits after the first line): the text so far, rendered, Stop instead of Send
        hold.awaitReached();
        assertThat(assistant(0).locator("strong")).hasText("bold");
        assertThat(assistant(0).locator(".content.streaming")).hasCount(1);
        assertThat(page.locator("#stop")).isVisible();
        assertThat(page.locator("#send")).isHidden();
        assertThat(assistant(0)).not().containsText("Euler");
        hold.release();

        // the server's own numbers: the prompt the model got, the tokens it wrote (without the stop token)
        int promptTokens = server.lastPrompt().ids().length;
        assertThat(assistant(0).locator(".stats")).containsText("prompt " + promptTokens + " tokens (0 cached)");
        assertThat(assistant(0).locator(".stats")).containsText("reply " + (reply.ids.length - 1) + " tokens");
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
        // the model was prompted as the reference demo's chat mode does: its system prompt, then the message
        assertThat(server.lastPrompt().text()).startsWith("[gMASK]sop<|system|>");
        assertThat(server.lastPrompt().transcript()).containsExactly("system: " + SYSTEM_PROMPT, "user: Show me some markdown");
    }

    @Test
    void theCopyButtonCopiesTheCode() {
        context.grantPermissions(List.of("clipboard-read", "clipboard-write"));
        server.replies = p -> Reply.text("```python\nx = 1\nprint(x)\n```");
        load();
        send("code please");
        assistant(0).locator(".code-block button.copy").click();
        assertThat(assistant(0).locator(".code-block button.copy")).hasText("Copied");
        assertThat(page.evaluate("() => navigator.clipboard.readText()")).isEqualTo("x = 1\nprint(x)");
    }

    @Test
    void stopEndsTheTurnAndKeepsThePartialReply() throws Exception {
        Hold hold = new Hold();
        server.replies = p -> p.lastMessage().equals("count") ? Reply.text("one two", hold, " three") : echo(p);
        load();
        send("count");
        hold.awaitReached();
        assertThat(lastAssistant()).containsText("one two");
        // the server has the stop before the model goes on, so it never writes " three"
        page.waitForResponse(r -> r.url().endsWith("/stop"), () -> page.locator("#stop").click());
        hold.release();
        assertThat(lastAssistant().locator(".outcome")).hasText("Stopped.");
        assertThat(page.locator("#send")).isVisible();
        assertThat(lastAssistant()).not().containsText("three");

        // the next turn continues after the partial reply: the model sees it in its prompt
        send("go on");
        assertThat(lastAssistant()).containsText("re: go on");
        assertThat(server.lastPrompt().transcript()).containsExactly("system: " + SYSTEM_PROMPT, "user: count",
                "assistant: one two", "user: go on");
    }

    @Test
    void clearingWhileAReplyStreamsLeavesAnEmptyConversation() throws Exception {
        Hold hold = new Hold();
        server.replies = p -> p.lastMessage().equals("first") ? Reply.text("partial", hold, " and more") : Reply.text("fresh");
        load();
        send("first");
        hold.awaitReached();
        assertThat(lastAssistant()).containsText("partial");
        page.locator("#clear").click();
        page.locator("#confirm-ok").click();
        assertThat(page.locator(".empty")).isVisible();
        assertThat(page.locator("#send")).isVisible();
        hold.release();
        send("second");
        assertThat(lastAssistant()).containsText("fresh");
        assertThat(lastTurn().get("history")).as("nothing of the cleared exchange").isEmpty();
        assertThat(server.lastPrompt().transcript()).containsExactly("system: " + SYSTEM_PROMPT, "user: second");
        assertThat(page.locator("article.message")).hasCount(2);
    }

    @Test
    void regenerateAsksAgainFromTheLastUserMessage() {
        AtomicInteger n = new AtomicInteger();
        server.replies = p -> Reply.text("answer " + n.incrementAndGet());
        load();
        send("first");
        assertThat(assistant(0)).containsText("answer 1");
        send("second");
        assertThat(assistant(1)).containsText("answer 2");
        page.locator("#regenerate").click();
        assertThat(assistant(1)).containsText("answer 3");
        assertThat(page.locator("article.message.assistant")).hasCount(2);
        // the model was asked the same question again, after the same first exchange (and not after "answer 2")
        assertThat(server.prompts).hasSize(3);
        assertThat(server.prompts.get(2).text()).isEqualTo(server.prompts.get(1).text());
        assertThat(server.prompts.get(2).transcript()).containsExactly("system: " + SYSTEM_PROMPT, "user: first",
                "assistant: answer 1", "user: second");
    }

    @Test
    void editingAnEarlierMessageContinuesFromThere() {
        server.replies = ChatModeTest::echo;
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
        assertThat(server.lastPrompt().transcript()).containsExactly("system: " + SYSTEM_PROMPT, "user: better first question");
    }

    @Test
    void aConversationSurvivesAPageReload() {
        server.replies = ChatModeTest::echo;
        load();
        send("remember me");
        assertThat(assistant(0)).containsText("re: remember me");
        awaitTurnEnded();
        page.reload();
        assertThat(page.locator("article.message.user")).hasText(Pattern.compile("remember me"));
        assertThat(assistant(0)).containsText("re: remember me");
        assertThat(page.locator("#conversation-list li[aria-current] .conversation-open")).containsText("remember me");
        send("and then?");
        assertThat(assistant(1)).containsText("re: and then?");
        // the same conversation on the server, and the model sees the exchange from before the reload
        assertThat(turns).hasSize(2);
        assertThat(server.lastPrompt().transcript()).containsExactly("system: " + SYSTEM_PROMPT, "user: remember me",
                "assistant: re: remember me", "user: and then?");
    }

    @Test
    void systemPromptAndSamplingSettingsAreSentWithTheReferenceDefaults() {
        load();
        page.locator("#open-settings").click();
        // the defaults come from the server's /api/info
        assertThat(page.locator("#max-tokens")).hasValue("256");
        assertThat(page.locator("#temperature-value")).hasText("0.95");
        assertThat(page.locator("#top-p-value")).hasText("0.80");
        assertThat(page.locator("#repetition-penalty-value")).hasText("1.10");
        assertThat(page.locator("#system-prompt")).hasValue(Pattern.compile("^You are ChatGLM3"));
        page.locator("#system-prompt").fill("You are a pirate.");
        page.locator("#max-tokens").fill("5");
        page.locator("#max-tokens").press("Tab");
        page.locator("#temperature").fill("0.5");
        page.locator("#close-settings").click();
        server.replies = p -> Reply.text("Arr, matey, ahoy there!");
        send("hello");
        // the server cut the reply at the 5 tokens asked for and says so
        assertThat(assistant(0).locator(".stats")).containsText("reply 5 tokens");
        assertThat(assistant(0).locator(".outcome")).hasText("The reply reached the length limit.");
        assertThat(assistant(0).locator(".content")).containsText("Arr");
        assertThat(assistant(0)).not().containsText("ahoy");
        assertThat(server.lastPrompt().transcript()).containsExactly("system: You are a pirate.", "user: hello");
        JsonNode turn = lastTurn();
        assertThat(turn.get("mode").asText()).isEqualTo("chat");
        assertThat(turn.get("sampling").get("max_tokens").asInt()).isEqualTo(5);
        assertThat(turn.get("sampling").get("temperature").asDouble()).isEqualTo(0.5);
        assertThat(turn.get("sampling").get("top_p").asDouble()).isEqualTo(0.8);
        assertThat(turn.get("sampling").get("repetition_penalty").asDouble()).isEqualTo(1.1);
    }

    @Test
    void conversationsCanBeRenamedDeletedExportedAndImported() throws Exception {
        server.replies = ChatModeTest::echo;
        load();
        send("alpha");
        assertThat(assistant(0)).containsText("re: alpha");
        page.locator("#new-conversation").click();
        send("beta");
        assertThat(assistant(0)).containsText("re: beta");
        awaitTurnEnded();
        var items = page.locator("#conversation-list .conversation");
        assertThat(items).hasCount(2);

        items.first().locator(".conversation-rename").click();
        page.locator("#rename-input").fill("Renamed beta");
        page.locator("#rename-input").press("Enter");
        assertThat(items.first()).containsText("Renamed beta");

        var download = page.waitForDownload(() -> page.locator("#export").click());
        JsonNode json = JSON.readTree(Files.readString(download.path()));
        assertThat(json.get("format").asText()).isEqualTo("chatglm4j-conversations");
        assertThat(json.get("conversations")).hasSize(2);

        page.waitForResponse(r -> r.request().method().equals("DELETE"), () -> {
            items.first().locator(".conversation-delete").click();
            page.locator("#confirm-ok").click();
        });
        assertThat(items).hasCount(1);
        assertThat(items.first()).containsText("alpha");
        assertThat(assistant(0)).containsText("re: alpha");

        page.locator("#import-file").setInputFiles(download.path());
        assertThat(items).hasCount(3);
        assertThat(page.locator("#notice")).containsText("Imported 2 conversations");
        assertThat(page.locator("#conversation-list")).containsText("Renamed beta");
        // an imported conversation goes on: the server made it a new conversation (the deleted one is gone there)
        page.locator("#conversation-list .conversation-open", new com.microsoft.playwright.Page.LocatorOptions().setHasText("Renamed beta")).click();
        send("gamma");
        assertThat(lastAssistant()).containsText("re: gamma");
        assertThat(server.lastPrompt().transcript()).containsExactly("system: " + SYSTEM_PROMPT, "user: beta",
                "assistant: re: beta", "user: gamma");
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
        var response = page.navigate(server.url());
        assertThat(response.headerValue("content-security-policy")).contains("script-src 'self'").contains("connect-src 'self'");
        assertThat(response.headerValue("x-content-type-options")).isEqualTo("nosniff");
    }
}
