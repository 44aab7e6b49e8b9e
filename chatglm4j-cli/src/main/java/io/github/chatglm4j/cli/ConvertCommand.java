package io.github.chatglm4j.cli;

import io.github.chatglm4j.checkpoint.GgufModelWriter;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tensor.quant.Quantization;
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

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "f16",
            description = "Matrix type: f32, f16, bf16, q8_0, q5_1, q5_0, q4_1 or q4_0. Default: ${DEFAULT-VALUE}.")
    String type;

    @Option(names = "--force", description = "Replace FILE.gguf if it exists.")
    boolean force;

    ConvertCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() throws IOException {
        TensorType target = switch (type.toLowerCase(Locale.ROOT)) {
            case "f32" -> TensorType.F32;
            case "f16" -> TensorType.F16;
            case "bf16" -> TensorType.BF16;
            case "q8_0" -> TensorType.Q8_0;
            case "q5_1" -> TensorType.Q5_1;
            case "q5_0" -> TensorType.Q5_0;
            case "q4_1" -> TensorType.Q4_1;
            case "q4_0" -> TensorType.Q4_0;
            default -> throw new ParameterException(spec.commandLine(),
                    "--type must be f32, f16, bf16, q8_0, q5_1, q5_0, q4_1 or q4_0, got '" + type + "'");
        };
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
            GgufModelWriter.convert(model, output, target, Quantization::quantizeRow, bar, force);
        } finally {
            bar.finishLine();
        }
        io.out().println(String.format(Locale.ROOT, "wrote %s: %s matrices, %s in %.1f s", output, target,
                ProgressBar.bytes(Files.size(output)), (System.nanoTime() - t0) / 1e9));
        io.out().flush();
        return 0;
    }
}
