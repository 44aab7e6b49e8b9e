package io.github.chatglm4j.cli;

import io.github.chatglm4j.hub.CachedModel;
import io.github.chatglm4j.hub.HubException;
import io.github.chatglm4j.hub.ModelRef;
import io.github.chatglm4j.hub.Source;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code chatglm rm}: remove a model from its cache. */
@Command(name = "rm", sortOptions = false,
        description = {"Remove cached models: ORG/NAME removes every revision of it, ORG/NAME@REVISION only that one "
                + "(and the files no other revision shares); modelscope:ORG/NAME removes it from the ModelScope cache.",
                "Prints what was removed; a model that is not cached is an error."})
final class RmCommand implements Callable<Integer> {
    private final Io io;

    @Parameters(arity = "1..*", paramLabel = "REPO", description = "ORG/NAME[@REVISION] or modelscope:ORG/NAME.")
    List<String> repos;

    @Option(names = "--source", paramLabel = "SOURCE", converter = ModelLocation.SourceConverter.class,
            completionCandidates = ModelLocation.SourceConverter.class,
            description = "The cache of names without a prefix: huggingface (default) or modelscope.")
    Source source;

    RmCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        var hub = ModelLocation.hub(io, source);
        for (String repo : repos) {
            ModelRef ref = ModelLocation.reference(repo, null, source);
            List<CachedModel> removed;
            try {
                removed = hub.remove(ref, repo.contains("@"));
            } catch (HubException e) {
                throw new CliException(e.getMessage(), e);
            }
            if (removed.isEmpty()) {
                throw new CliException(repo + " is not in the cache (see 'chatglm models')");
            }
            for (CachedModel m : removed) {
                io.out().println("removed " + m.reference() + " " + m.revisionLabel() + " (" + DownloadProgress.size(m.bytes()) + "): " + m.path());
            }
        }
        io.out().flush();
        return 0;
    }
}
