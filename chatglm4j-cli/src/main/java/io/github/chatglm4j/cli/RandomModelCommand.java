package io.github.chatglm4j.cli;

import io.github.chatglm4j.checkpoint.FileType;
import io.github.chatglm4j.checkpoint.RandomCheckpointWriter;
import io.github.chatglm4j.checkpoint.GgufModelWriter;
import io.github.chatglm4j.checkpoint.RandomGgufWriter;
import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code chatglm random-model}: a full-size checkpoint with random weights, for benchmarks without a download. */
@Command(name = "random-model", sortOptions = false,
        description = {"Write a ChatGLM3 model with random weights, e.g. to benchmark without downloading 12 GB: a "
                + "Hugging Face directory (config.json, tokenizer.model, safetensors shards and their index), or, when "
                + "the output ends in .gguf, one GGUF file typed like llama.cpp's quantizer would (q4_0 keeps the output "
                + "layer in Q6_K; q4_k_m mixes Q4_K, Q5_K, Q6_K, Q5_0 and Q8_0; q2_k, q3_k_m, iq4_xs … as llama-quantize).",
                "Its replies are gibberish, but it has the real layout and speed."})
final class RandomModelCommand implements Callable<Integer> {
    /** The published config.json files, embedded so that no checkpoint is needed. */
    static final Map<String, String> CONFIGS = Map.of(
            "6b", "configs/chatglm3-6b.json",
            "32k", "configs/chatglm3-6b-32k.json",
            "128k", "configs/chatglm3-6b-128k.json",
            "base", "configs/chatglm3-6b-base.json");
    static final String TOKENIZER_URL = "https://huggingface.co/THUDM/chatglm3-6b/resolve/main/tokenizer.model";

    private final Io io;

    @Spec
    CommandSpec spec;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR|FILE.gguf",
            description = "Directory to write, or a .gguf file.")
    Path output;

    @Option(names = "--config", paramLabel = "NAME|FILE", defaultValue = "6b",
            description = "6b, 32k, 128k or base (the published config.json of chatglm3-6b, -32k, -128k, -base), "
                    + "or the path of a config.json. Default: ${DEFAULT-VALUE}.")
    String config;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "f16", completionCandidates = FileTypes.class,
            description = "Weight type: f16, bf16 or f32; for a .gguf file any of llama.cpp's file types: ${COMPLETION-CANDIDATES}. "
                    + "Default: ${DEFAULT-VALUE}.")
    String type;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Seed of the random weights. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "ChatGLM3's tokenizer.model to copy (it is in every ChatGLM3 checkpoint; " + TOKENIZER_URL + ").")
    Path tokenizer;

    @Option(names = "--force", description = "Write into DIR even if it is not empty (or replace FILE.gguf).")
    boolean force;

    /** llama.cpp's file types, by their lower-case names. */
    static final class FileTypes implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Arrays.stream(FileType.values()).map(FileType::label).iterator();
        }
    }

    RandomModelCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() throws IOException {
        if (output.getFileName() != null && output.getFileName().toString().endsWith(".gguf")) {
            return writeGguf();
        }
        TensorType weightType = TensorType.parse(type).filter(t -> !t.isQuantized()).orElseThrow(() ->
                new ParameterException(spec.commandLine(), "--type must be f16, bf16 or f32, got '" + type + "'"));
        if (tokenizer == null) {
            throw new CliException("random-model needs ChatGLM3's tokenizer.model: pass --tokenizer FILE "
                    + "(every ChatGLM3 checkpoint has it; download: " + TOKENIZER_URL + ")");
        }
        ChatGLMTokenizer.load(tokenizer); // fails with a clear message if it is not the ChatGLM3 tokenizer
        checkOutput();
        Path configFile = configFile();
        var bar = new ProgressBar(io, true);
        long[] total = {0};
        long t0 = System.nanoTime();
        ChatGLMConfig c;
        try {
            c = ChatGLMConfig.read(configFile);
            Files.createDirectories(output);
            RandomCheckpointWriter.write(output, configFile, tokenizer, weightType, seed, (stage, done, all) -> {
                if (total[0] == 0) {
                    total[0] = all;
                    checkSpace(all);
                }
                bar.update(stage, done, all);
            });
        } finally {
            bar.finishLine();
            if (CONFIGS.containsKey(config)) {
                Files.deleteIfExists(configFile);
            }
        }
        io.out().println(String.format(Locale.ROOT, "wrote %s: %.2f B parameters (%d layers, hidden %d, context %d), %s of %s weights in %.1f s",
                output, total[0] / (double) weightType.byteSize(1) / 1e9, c.numLayers(), c.hiddenSize(), c.seqLength(),
                ProgressBar.bytes(total[0]), weightType, (System.nanoTime() - t0) / 1e9));
        io.out().flush();
        return 0;
    }

    private int writeGguf() throws IOException {
        FileType mix = FileType.parse(type).orElseThrow(() -> new ParameterException(spec.commandLine(),
                "--type: unknown weight type '" + type + "'; use one of " + String.join(", ", new FileTypes())));
        if (tokenizer == null) {
            throw new CliException("random-model needs ChatGLM3's tokenizer.model for the vocabulary: pass --tokenizer FILE "
                    + "(every ChatGLM3 checkpoint has it; download: " + TOKENIZER_URL + ")");
        }
        ChatGLMTokenizer vocab = ChatGLMTokenizer.load(tokenizer);
        if (Files.exists(output) && !force) {
            throw new CliException(output + ": exists (use --force to replace it)");
        }
        Path configFile = configFile();
        ChatGLMConfig c;
        try {
            c = ChatGLMConfig.read(configFile);
        } finally {
            if (CONFIGS.containsKey(config)) {
                Files.deleteIfExists(configFile);
            }
        }
        long bytes = RandomGgufWriter.plan(c, mix).stream().mapToLong(GgufModelWriter.PlannedTensor::byteSize).sum();
        Path parent = output.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        long free = Files.getFileStore(parent).getUsableSpace();
        if (free < bytes) {
            throw new CliException(String.format("not enough disk space in %s: the file needs %s, %s is free",
                    parent, ProgressBar.bytes(bytes), ProgressBar.bytes(free)));
        }
        var bar = new ProgressBar(io, true);
        long t0 = System.nanoTime();
        try {
            RandomGgufWriter.write(output, c, vocab, mix, seed, Runtime.getRuntime().availableProcessors(), bar, force);
        } finally {
            bar.finishLine();
        }
        io.out().println(String.format(Locale.ROOT, "wrote %s: %d layers, hidden %d, context %d, %s weights, %s in %.1f s",
                output, c.numLayers(), c.hiddenSize(), c.seqLength(), mix.name(), ProgressBar.bytes(Files.size(output)),
                (System.nanoTime() - t0) / 1e9));
        io.out().flush();
        return 0;
    }

    private void checkOutput() throws IOException {
        if (Files.exists(output) && !Files.isDirectory(output)) {
            throw new CliException(output + ": exists and is not a directory");
        }
        if (Files.isDirectory(output) && !force) {
            try (Stream<Path> entries = Files.list(output)) {
                if (entries.findAny().isPresent()) {
                    throw new CliException(output + ": directory is not empty (use --force to write into it)");
                }
            }
        }
    }

    /** An embedded config copied to a temporary file (the writer reads a path), or the user's file. */
    private Path configFile() throws IOException {
        String resource = CONFIGS.get(config);
        if (resource == null) {
            Path file = Path.of(config);
            if (!Files.exists(file)) {
                throw new CliException("--config '" + config + "' is neither 6b, 32k, 128k, base nor an existing config.json");
            }
            return file;
        }
        Path tmp = Files.createTempFile("chatglm-config", ".json"); // exclusive, random name, owner-only
        tmp.toFile().deleteOnExit();
        try (InputStream in = RandomModelCommand.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        return tmp;
    }

    private void checkSpace(long bytes) {
        try {
            long free = Files.getFileStore(output).getUsableSpace();
            if (free < bytes) {
                throw new CliException(String.format("not enough disk space in %s: the weights need %s, %s is free",
                        output, ProgressBar.bytes(bytes), ProgressBar.bytes(free)));
            }
        } catch (IOException e) {
            // the store cannot tell; the write itself will fail if space runs out
        }
    }
}
