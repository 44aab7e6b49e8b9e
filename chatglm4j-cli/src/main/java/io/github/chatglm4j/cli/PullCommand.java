package io.github.chatglm4j.cli;

import io.github.chatglm4j.hub.HubException;
import io.github.chatglm4j.hub.ModelRef;
import io.github.chatglm4j.hub.Source;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code chatglm pull}: download a model into the cache without running it. */
@Command(name = "pull", sortOptions = false,
        description = {"Download a model into the cache without running it (what -m does on first use), or bring a cached "
                + "one up to date with its branch.",
                "Fetches config.json, tokenizer.model and one weight format (safetensors preferred, never Python files) "
                        + "into the Hugging Face cache ($HF_HUB_CACHE, default ~/.cache/huggingface/hub), shared with Python's "
                        + "huggingface_hub; or, for modelscope:ORG/NAME, into $MODELSCOPE_CACHE. Interrupted downloads resume; "
                        + "every file is checked against its checksum. HF_ENDPOINT selects a mirror (https://hf-mirror.com), "
                        + "HF_TOKEN is sent for gated or private repositories, HF_HUB_OFFLINE=1 only checks the cache.",
                "Prints the model's local path on stdout."})
final class PullCommand implements Callable<Integer> {
    private final Io io;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "REPO",
            description = "ORG/NAME[@REVISION], ORG/NAME/FILE.gguf or modelscope:ORG/NAME, e.g. " + ModelLocation.DEFAULT_MODEL + ".")
    String repo;

    @Option(names = "--file", paramLabel = "NAME", description = "Only this file of the repository (a .gguf file).")
    String file;

    @Option(names = "--source", paramLabel = "SOURCE", converter = ModelLocation.SourceConverter.class,
            completionCandidates = ModelLocation.SourceConverter.class,
            description = "huggingface (default) or modelscope.")
    Source source;

    @Option(names = "--quiet", description = "Show no progress.")
    boolean quiet;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "1",
            description = "Parallel ranged connections for each file over 64 MiB. Default: ${DEFAULT-VALUE} (more was "
                    + "not measurably faster from a local server, see docs/models.md; it may help where a CDN limits "
                    + "each connection).")
    int connections;

    PullCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        if (connections < 1 || connections > 16) {
            throw new ParameterException(spec.commandLine(), "--connections must be between 1 and 16, got " + connections);
        }
        ModelRef ref = ModelLocation.reference(repo, file, source);
        Path path;
        try {
            path = ModelLocation.hub(io, source, connections).pull(ref, new DownloadProgress(io, quiet));
        } catch (HubException e) {
            throw new CliException(e.getMessage(), e);
        }
        io.out().println(path);
        io.out().flush();
        return 0;
    }
}
