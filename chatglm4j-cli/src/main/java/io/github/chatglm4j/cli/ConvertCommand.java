package io.github.chatglm4j.cli;

import io.github.chatglm4j.checkpoint.FileType;
import io.github.chatglm4j.checkpoint.GgufModelWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code chatglm convert}: a Hugging Face checkpoint to one GGUF file that both chatglm4j and llama.cpp load. */
@Command(name = "convert", sortOptions = false,
        description = {"Convert a Hugging Face ChatGLM3 checkpoint into one GGUF file (llama.cpp's 'chatglm' layout, "
                + "vocabulary included), optionally quantized.",
                "Matrices get --type; norm weights and the QKV bias stay F32. The file is written under a temporary "
                        + "name and renamed when complete."})
final class ConvertCommand implements Callable<Integer> {
    private final Io io;

    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL",
            description = "Hugging Face model directory (config.json, tokenizer.model and safetensors or pytorch_model.bin "
                    + "weights), or a repo id such as THUDM/chatglm3-6b, downloaded into the Hugging Face cache first.")
    String modelName;

    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE.gguf", description = "GGUF file to write.")
    Path output;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "f16", completionCandidates = RandomModelCommand.FileTypes.class,
            description = {"Matrix types, one of llama.cpp's file types: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.",
                    "f32 … q5_1 put every matrix in that type (as chatglm.cpp); the K-quant and IQ4 types are typed per "
                            + "tensor as llama-quantize types them (q4_k_m: Q4_K, Q5_K and Q6_K, with Q5_0/Q8_0 where rows "
                            + "are not whole 256-blocks)."})
    String type;

    @Option(names = "--force", description = "Replace FILE.gguf if it exists.")
    boolean force;

    ConvertCommand(Io io) {
        this.io = io;
    }

    /** chatglm.cpp's types (the floats and the load-time quantization targets) keep every matrix in that type. */
    private static boolean uniform(FileType type) {
        return !type.base().isQuantized() || type.base().isQuantTarget();
    }

    @Override
    public Integer call() throws IOException {
        FileType target = FileType.parse(type).orElseThrow(() -> new ParameterException(spec.commandLine(),
                "--type must be one of " + String.join(", ", new RandomModelCommand.FileTypes()) + ", got '" + type + "'"));
        model = ModelLocation.resolve(modelName, null, null, false, io);
        if (!Files.isDirectory(model)) {
            throw new CliException(model + ": " + (Files.exists(model) ? "not a directory" : "no such directory")
                    + " (convert reads a Hugging Face checkpoint directory)");
        }
        if (Files.exists(output) && !force) {
            throw new CliException(output + ": exists (use --force to replace it)");
        }
        var bar = new ProgressBar(io, true);
        long t0 = System.nanoTime();
        try {
            GgufModelWriter.convert(model, output, c -> uniform(target) ? target.pure() : target.policy(c), bar, force);
        } finally {
            bar.finishLine();
        }
        io.out().println(String.format(Locale.ROOT, "wrote %s: %s matrices, %s in %.1f s", output, target,
                ProgressBar.bytes(Files.size(output)), (System.nanoTime() - t0) / 1e9));
        io.out().flush();
        return 0;
    }
}
