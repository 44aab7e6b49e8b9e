package io.github.chatglm4j.cli;

import io.github.chatglm4j.hub.CachedModel;
import io.github.chatglm4j.hub.HubException;
import io.github.chatglm4j.hub.ModelHub;
import picocli.CommandLine.Command;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code chatglm models}: what the caches hold. */
@Command(name = "models", sortOptions = false,
        description = {"List the models in the Hugging Face cache ($HF_HUB_CACHE, default ~/.cache/huggingface/hub, "
                + "including those Python tools downloaded) and the ModelScope cache ($MODELSCOPE_CACHE): repository, "
                + "revision, size on disk and path, one line per cached revision."})
final class ModelsCommand implements Callable<Integer> {
    private final Io io;

    ModelsCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        ModelHub hub = ModelLocation.hub(io, null);
        List<CachedModel> models;
        try {
            models = hub.list();
        } catch (HubException e) {
            throw new CliException(e.getMessage(), e);
        }
        if (models.isEmpty()) {
            io.err().println("chatglm: no models cached in " + hub.options().hfCache() + " or " + hub.options().modelScopeCache()
                    + " (download one with 'chatglm pull " + ModelLocation.DEFAULT_MODEL + "')");
            return 0;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"REPO", "REVISION", "SIZE", "PATH"});
        for (CachedModel m : models) {
            rows.add(new String[]{m.reference(), m.revisionLabel(), DownloadProgress.size(m.bytes()), m.path().toString()});
        }
        int[] width = new int[3];
        for (String[] r : rows) {
            for (int i = 0; i < width.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            io.out().println(String.format(Locale.ROOT, "%-" + width[0] + "s  %-" + width[1] + "s  %" + width[2] + "s  %s", (Object[]) r));
        }
        io.out().flush();
        return 0;
    }
}
