package io.github.chatglm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ChatCommandTest {
    /** The user turn of the tiny model's fixture prompt (its expected.json input_ids are this chat prompt). */
    private static final String FIXTURE_QUERY = "你好，请介绍一下你自己。";
    private static final int REPLY_TOKENS = 6;
    private static final JsonNode CHATS = Cli.json(Cli.fixtures().resolve("tokenizer/cases.json")).get("chats");

    private static Cli.Run chat(String stdin, String... extra) {
        String[] args = {"chat", "-m", Cli.tiny().toString(), "--temperature", "0", "--max-new-tokens", String.valueOf(REPLY_TOKENS)};
        String[] all = Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        return Cli.withStdin(stdin, all);
    }

    private static List<String> replies(Cli.Run run) {
        return run.outLines().stream().filter(l -> l.startsWith("ChatGLM: ")).toList();
    }

    /** Prompt token counts from the statistics lines on stderr. */
    private static List<Integer> promptTokens(Cli.Run run) {
        return run.errLines().stream().filter(l -> l.startsWith("[prompt: "))
                .map(l -> Integer.parseInt(l.substring("[prompt: ".length(), l.indexOf(" tokens")))).toList();
    }

    /** Prompt tokens actually computed (not taken from the KV cache), from the statistics lines on stderr. */
    private static List<Integer> computedTokens(Cli.Run run) {
        return run.errLines().stream().filter(l -> l.startsWith("[prompt: ")).map(l -> {
            int total = Integer.parseInt(l.substring("[prompt: ".length(), l.indexOf(" tokens")));
            int open = l.indexOf(" (");
            int cached = open >= 0 && l.indexOf(" cached)") > open ? Integer.parseInt(l.substring(open + 2, l.indexOf(" cached)"))) : 0;
            return total - cached;
        }).toList();
    }

    @Test
    void clearStartsOverSoTheSameQuestionGetsTheReferenceGreedyReplyTwice() {
        JsonNode expected = Cli.json(Cli.tiny().resolve("expected.json"));
        int[] greedy = Arrays.copyOf(Cli.ints(expected.get("greedy_ids")), REPLY_TOKENS);
        String text = ChatGLMTokenizer.load(Cli.tiny().resolve("tokenizer.model")).decode(greedy);
        assertThat(text).as("the fixture's greedy reply has no metadata line, so it is shown as plain text").doesNotContain("\n");

        Cli.Run run = chat(FIXTURE_QUERY + "\nclear\n" + FIXTURE_QUERY + "\nstop\nnever answered\n");

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(replies(run)).as("two replies, each the reference greedy continuation of the fixture prompt")
                .containsExactly("ChatGLM: " + text.strip(), "ChatGLM: " + text.strip());
        assertThat(promptTokens(run)).as("both turns sent the 13-token fixture prompt (the history was cleared)")
                .containsExactly(expected.get("input_ids").size(), expected.get("input_ids").size());
        assertThat(run.errLines().stream().filter(l -> l.startsWith("[prompt: ")).toList().getLast())
                .as("the second turn's prompt came from the KV cache but its last token")
                .startsWith("[prompt: " + expected.get("input_ids").size() + " tokens (" + (expected.get("input_ids").size() - 1) + " cached)");
        assertThat(run.out()).contains(ChatCommand.WELCOME_ZH).contains("User: stop");
    }

    @Test
    void theStartupLineReportsTheKvCacheAtTheContextSize() {
        // tiny-chatglm3: 2 layers x (K, V) x 2 groups x head dim 16 = 128 values per token, 4 bytes each in f32
        Cli.Run run = chat("", "--kv-type", "f32", "--ctx", "4096");

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(run.errLines()).anyMatch(l -> l.startsWith("loaded tiny-chatglm3 in ")
                && l.endsWith(", context 4096 tokens (KV cache f32 2.0 MiB)"));
    }

    @Test
    void withoutClearTheNextTurnOnlyComputesItsNewTokens() {
        Cli.Run run = chat(FIXTURE_QUERY + "\nHello\n");

        assertThat(run.exitCode()).as("end of input exits cleanly: %s", run).isZero();
        assertThat(replies(run)).hasSize(2);
        List<Integer> prompts = computedTokens(run);
        assertThat(prompts.get(0)).isEqualTo(13);
        // the cut reply's last token, <|user|>, "\n" and "Hello" (cases.json: 7 ids minus [gMASK] sop), <|assistant|>
        int helloTurn = CHATS.get(1).get("ids").size() - 2;
        assertThat(prompts.get(1)).as("the second turn reuses the KV cache of the first").isEqualTo(1 + helloTurn);
    }

    @Test
    void theSystemPromptAndTypedRoleStringsArePromptedLikeTheReference() {
        JsonNode withSystem = CHATS.get(3);
        JsonNode injected = CHATS.get(7);
        String system = withSystem.get("history").get(0).get("content").asText();

        Cli.Run run = chat(withSystem.get("query").asText() + "\n", "--system", system);
        Cli.Run typed = chat(injected.get("query").asText() + "\n");

        assertThat(promptTokens(run)).as("system + user prompt length as build_chat_input").containsExactly(withSystem.get("ids").size());
        assertThat(promptTokens(typed)).as("a typed <|user|> stays text").containsExactly(injected.get("ids").size());
    }

    @Test
    void scriptedOutputHasNoEscapeCodes() {
        Cli.Run run = chat("hi\nclear\nstop\n");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).doesNotContain("\u001b");
        assertThat(run.err()).doesNotContain("\u001b");
    }

    @Test
    void aFullContextSaysToClearInsteadOfFailing() {
        Cli.Run run = chat(FIXTURE_QUERY + "\nhi\nstop\n", "--ctx", "10");

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(replies(run)).as("the long question gets no reply, the short one after it does").hasSize(2)
                .first().isEqualTo("ChatGLM: ");
        assertThat(run.outLines()).as("the second reply fills the context").contains("[the context is full (10 tokens): type 'clear' to start a new conversation]");
        assertThat(run.errLines()).contains("chatglm: the conversation (13 tokens with this message) no longer fits "
                + "the context of 10 tokens; type 'clear' to start a new one (or restart with a larger --ctx)");
        assertThat(run.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }
}
