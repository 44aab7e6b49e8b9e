package io.github.chatglm4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.TokenListener;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code chatglm generate}: plain completion, the base model's use. */
@Command(name = "generate", sortOptions = false,
        description = {"Complete a prompt (plain text generation, e.g. for chatglm3-6b-base).",
                "The text is streamed to stdout; a statistics line goes to stderr. With --json, stdout gets exactly "
                        + "one line: {\"prompt_ids\": [...], \"ids\": [...], \"text\": \"...\", \"finish_reason\": \"stop\"|\"length\"}."})
final class GenerateCommand implements Callable<Integer> {
    private final Io io;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    static final class Prompt {
        @Option(names = "--prompt", paramLabel = "TEXT", required = true,
                description = "Text to complete, encoded as [gMASK] sop followed by the text.")
        String text;

        @Option(names = "--prompt-ids", paramLabel = "IDS", split = ",", required = true,
                description = "Exact prompt token ids, comma separated (no prefix is added).")
        int[] ids;
    }

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "256",
            description = "Most tokens to generate. Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--json", description = "Print one JSON line with the prompt ids, the generated ids and text, and the finish reason.")
    boolean json;

    GenerateCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() throws Exception {
        if (maxNewTokens < 1) {
            throw new ParameterException(spec.commandLine(), "--max-new-tokens must be at least 1, got " + maxNewTokens);
        }
        if (prompt.ids != null) {
            checkIds(prompt.ids);
        }
        GenerationOptions options = GenerationOptions.completion(sampling.params(), maxNewTokens);
        try (ChatGLM glm = model.load(io, 0)) {
            TokenListener listener = json ? TokenListener.NONE : (id, text) -> {
                io.out().print(text);
                io.out().flush();
            };
            int[] promptIds = prompt.ids != null ? prompt.ids : glm.prompts().buildCompletion(prompt.text);
            Generation g = glm.complete(promptIds, options, listener);
            if (json) {
                io.out().println(toJson(promptIds, g));
            } else {
                io.out().println();
            }
            io.out().flush();
            io.err().println(Style.forTerminal(io.stderrTerminal()).dim(ChatCommand.stats(g)
                    + String.format(Locale.ROOT, " finish: %s", reason(g))));
        }
        return 0;
    }

    private void checkIds(int[] ids) {
        if (ids.length == 0) {
            throw new ParameterException(spec.commandLine(), "--prompt-ids needs at least one id");
        }
        for (int id : ids) {
            if (id < 0 || id >= ChatGLMTokenizer.VOCAB_SIZE) {
                throw new ParameterException(spec.commandLine(),
                        "--prompt-ids: token id " + id + " is outside the vocabulary [0, " + ChatGLMTokenizer.VOCAB_SIZE + ")");
            }
        }
    }

    private static String reason(Generation g) {
        return g.finishReason().name().toLowerCase(Locale.ROOT);
    }

    static String toJson(int[] promptIds, Generation g) {
        var mapper = new ObjectMapper();
        ObjectNode node = mapper.createObjectNode();
        var p = node.putArray("prompt_ids");
        for (int id : promptIds) {
            p.add(id);
        }
        var ids = node.putArray("ids");
        for (int id : g.ids()) {
            ids.add(id);
        }
        node.put("text", g.text());
        node.put("finish_reason", reason(g));
        return node.toString();
    }
}
