package io.github.chatglm4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.chat.Role;
import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.hub.ModelRef;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Serial;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code chatglm tokenize}: token ids of texts and chat prompts, one JSON line in, one JSON array out. */
@Command(name = "tokenize", sortOptions = false,
        description = {"Print the token ids of JSON lines read from stdin, one JSON array per line.",
                "A JSON string is encoded as plain text (no prefix tokens, special-token strings stay text). "
                        + "An object {\"history\": [...], \"query\": \"...\", \"role\": \"user\"} is built as the "
                        + "full chat prompt, like the reference build_chat_input; history items are "
                        + "{\"role\", \"content\", \"metadata\"?, \"tools\"?}. Blank lines are skipped. "
                        + "At the first bad line, an error naming the line number goes to stderr and the command "
                        + "stops with exit code 1 (the ids already printed belong to the lines before it)."})
final class TokenizeCommand implements Callable<Integer> {
    private final Io io;
    private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL",
            description = "Model directory (only its tokenizer.model is read), the tokenizer.model file itself, or a "
                    + "Hugging Face repo id such as THUDM/chatglm3-6b (only its tokenizer.model is downloaded).")
    String model;

    TokenizeCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() throws IOException {
        ChatGLMTokenizer tokenizer = ChatGLMTokenizer.load(tokenizerFile());
        var prompts = new PromptBuilder(tokenizer);
        var in = new BufferedReader(new InputStreamReader(io.in(), StandardCharsets.UTF_8));
        int lineNumber = 0;
        for (String line; (line = in.readLine()) != null; ) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            int[] ids;
            try {
                ids = encode(json.readTree(line), tokenizer, prompts);
            } catch (JsonProcessingException e) {
                throw new CliException("stdin line " + lineNumber + ": not valid JSON: " + e.getOriginalMessage());
            } catch (BadInput | IllegalArgumentException e) {
                throw new CliException("stdin line " + lineNumber + ": " + e.getMessage());
            }
            io.out().println(idsJson(ids));
            io.out().flush();
        }
        return 0;
    }

    private Path tokenizerFile() {
        Path local = Path.of(model);
        if (!Files.exists(local) && ModelRef.looksLikeReference(model)) {
            return ModelLocation.resolve(model, "tokenizer.model", null, false, io);
        }
        if (Files.isRegularFile(local)) {
            return local;
        }
        if (!Files.isDirectory(local)) {
            throw new ModelFormatException(local, "no such directory");
        }
        return local.resolve("tokenizer.model");
    }

    private static int[] encode(JsonNode node, ChatGLMTokenizer tokenizer, PromptBuilder prompts) {
        if (node.isTextual()) {
            return tokenizer.encode(node.asText());
        }
        if (!node.isObject()) {
            throw new BadInput("expected a JSON string (text) or object (chat), got " + node.getNodeType().name().toLowerCase(Locale.ROOT));
        }
        String query = string(node, "query", null, "");
        Role role = Role.fromWireName(string(node, "role", "user", ""));
        List<ChatMessage> history = new ArrayList<>();
        JsonNode items = node.path("history");
        if (!items.isMissingNode() && !items.isNull()) {
            if (!items.isArray()) {
                throw new BadInput("'history' must be an array");
            }
            for (int i = 0; i < items.size(); i++) {
                history.add(message(items.get(i), "history[" + i + "]."));
            }
        }
        return prompts.buildPrompt(history, new ChatMessage(role, query, "", null));
    }

    private static ChatMessage message(JsonNode item, String where) {
        if (!item.isObject()) {
            throw new BadInput(where.substring(0, where.length() - 1) + " must be an object");
        }
        Role role = Role.fromWireName(string(item, "role", null, where));
        JsonNode tools = item.get("tools");
        if (tools != null && tools.isNull()) {
            tools = null;
        }
        return new ChatMessage(role, string(item, "content", "", where), string(item, "metadata", "", where), tools);
    }

    /** A string field; {@code fallback} null means required. */
    private static String string(JsonNode object, String key, String fallback, String where) {
        JsonNode v = object.get(key);
        if (v == null || v.isNull()) {
            if (fallback == null) {
                throw new BadInput("missing '" + where + key + "'");
            }
            return fallback;
        }
        if (!v.isTextual()) {
            throw new BadInput("'" + where + key + "' must be a string, got " + v.getNodeType().name().toLowerCase(Locale.ROOT));
        }
        return v.asText();
    }

    static String idsJson(int[] ids) {
        var sb = new StringBuilder("[");
        for (int i = 0; i < ids.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(ids[i]);
        }
        return sb.append(']').toString();
    }

    /** A well-formed JSON line that does not describe a text or a chat. */
    private static final class BadInput extends RuntimeException {
        @Serial
        private static final long serialVersionUID = 1L;

        BadInput(String message) {
            super(message);
        }
    }
}
