package io.github.chatglm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.github.chatglm4j.agent.testing.Reference;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code chat --tools / --interpreter} on the tiny model (random weights: it does not call tools, but the prompts it
 * gets show that the right system prompt is in place), and the option checks.
 */
class AgentChatTest {
    private static final JsonNode CHATS = Cli.json(Cli.fixtures().resolve("tokenizer/cases.json")).get("chats");

    @TempDir
    Path temp;

    private static Cli.Run chat(String stdin, String... extra) {
        String[] args = {"chat", "-m", Cli.tiny().toString(), "--temperature", "0", "--max-new-tokens", "4", "--max-rounds", "1"};
        String[] all = Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        return Cli.withStdin(stdin, all);
    }

    /** Prompt lengths of every model turn, from the statistics lines on stderr. */
    private static List<Integer> promptTokens(Cli.Run run) {
        return run.errLines().stream().filter(l -> l.startsWith("[prompt: "))
                .map(l -> Integer.parseInt(l.substring("[prompt: ".length(), l.indexOf(" tokens")))).toList();
    }

    @Test
    void toolsFromAFileArePromptedAsTheReferenceDocumentsThem() throws IOException {
        JsonNode chat = CHATS.get(4); // system with the track and text-to-speech tools, then a query
        Path yaml = temp.resolve("tools.yaml");
        Files.writeString(yaml, new ObjectMapper(new YAMLFactory()).writeValueAsString(chat.get("history").get(0).get("tools")));

        Cli.Run run = chat(chat.get("query").asText() + "\nstop\n", "--tools", yaml.toString());

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(promptTokens(run)).first().as("build_chat_input's length for that conversation").isEqualTo(chat.get("ids").size());
        assertThat(run.out()).doesNotContain("\u001b");
    }

    @Test
    void theInterpreterUsesTheReferenceSystemPromptAndTellsWhereFilesGo() {
        JsonNode chat = CHATS.get(6); // the code-interpreter system prompt, then "计算 2 的 100 次方"
        int[] ids = Cli.ints(chat.get("ids"));
        int firstPrompt = 0;
        while (ids[firstPrompt] != ChatGLMTokenizer.ASSISTANT) {
            firstPrompt++;
        }
        String query = chat.get("history").get(1).get("content").asText();

        Cli.Run run = chat(query + "\n", "--interpreter");

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(promptTokens(run)).first().isEqualTo(firstPrompt + 1);
        assertThat(run.errLines()).anyMatch(l -> l.startsWith("files: ") && l.contains(" (the code's /mnt/data); figures: "));
    }

    @Test
    void builtinToolsAreTheReferenceRegistry() {
        // the composite demo's three tools, rendered as chatglm.cpp's function_call.txt shows the first two
        String system = Reference.BUILTIN_TOOLS_TXT;
        ChatGLMTokenizer tok = ChatGLMTokenizer.load(Cli.tiny().resolve("tokenizer.model"));
        var expected = new ArrayList<Integer>(List.of(ChatGLMTokenizer.GMASK, ChatGLMTokenizer.SOP, 64794));
        for (String text : List.of("\n", system)) {
            Arrays.stream(tok.encode(text)).forEach(expected::add);
        }
        expected.add(64795);
        for (String text : List.of("\n", "hi")) {
            Arrays.stream(tok.encode(text)).forEach(expected::add);
        }
        expected.add(ChatGLMTokenizer.ASSISTANT);

        Cli.Run run = chat("hi\n", "--tools", "builtin");

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(promptTokens(run)).first().isEqualTo(expected.size());
        assertThat(run.err()).doesNotContain("get_shell is disabled");
    }

    @Test
    void optionsThatDoNotFitAreUsageErrors() {
        Cli.Run system = chat("", "--tools", "builtin", "--system", "Be brief.");
        Cli.Run weather = chat("", "--interpreter", "--weather");

        assertThat(system.exitCode()).isEqualTo(2);
        assertThat(system.err().strip()).isEqualTo("chatglm: --system cannot be combined with --tools or --interpreter: "
                + "they use the system prompts ChatGLM3 was trained with (see 'chatglm chat --help')");
        assertThat(weather.exitCode()).isEqualTo(2);
        assertThat(weather.err().strip()).isEqualTo("chatglm: --weather needs --tools builtin (see 'chatglm chat --help')");
    }

    @Test
    void aMissingOrBrokenToolFileIsOneLine() throws IOException {
        Cli.Run missing = chat("", "--tools", temp.resolve("none.json").toString());
        Path broken = Files.writeString(temp.resolve("tools.json"), "[{\"description\": \"no name\"}]");
        Cli.Run bad = chat("", "--tools", broken.toString());

        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err().strip()).isEqualTo("chatglm: cannot read the tool file " + temp.resolve("none.json")
                + ": " + temp.resolve("none.json") + ": no such tool file");
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err().strip()).isEqualTo("chatglm: " + broken + ": [0]: the tool needs a \"name\" string");
    }
}
