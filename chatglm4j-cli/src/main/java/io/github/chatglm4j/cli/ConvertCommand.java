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
import java.util.Arrays;
import java.util.Iterator;
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

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR",
            description = "Hugging Face model directory: config.json, tokenizer.model and safetensors or pytorch_model.bin weights.")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE.gguf", description = "GGUF file to write.")
    Path output;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "f16", completionCandidates = MatrixTypes.class,
            description = "Matrix type: one of ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
    String type;

    @Option(names = "--force", description = "Replace FILE.gguf if it exists.")
    boolean force;

    /** The matrix types of a converted file: the float types and the quantization targets of the type table. */
    static final class MatrixTypes implements Iterable<String> {
        static boolean accepts(TensorType t) {
            return !t.isQuantized() || t.isQuantTarget();
        }

        @Override
        public Iterator<String> iterator() {
            return Arrays.stream(TensorType.values()).filter(MatrixTypes::accepts).map(TensorType::label).iterator();
        }
    }

    ConvertCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() throws IOException {
        TensorType target = TensorType.parse(type).filter(MatrixTypes::accepts).orElseThrow(() ->
                new ParameterException(spec.commandLine(), "--type must be one of " + String.join(", ", new MatrixTypes())
                        + ", got '" + type + "'"));
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
