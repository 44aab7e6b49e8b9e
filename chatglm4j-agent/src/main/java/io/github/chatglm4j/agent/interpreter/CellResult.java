package io.github.chatglm4j.agent.interpreter;

import java.util.List;

/**
 * What one cell did, as a notebook would show it.
 *
 * @param text      stdout and stderr as printed, then the value of a last expression as its {@code repr} (like
 *                  Jupyter's Out); at most the output limit of characters
 * @param dropped   characters of output beyond the limit, not kept
 * @param error     the traceback (ANSI codes removed) if the cell raised, else null
 * @param figures   the matplotlib figures left open, as PNG
 * @param files     files under /mnt/data that the cell created or changed
 * @param timedOut  the cell ran past the timeout and was interrupted
 * @param cancelled the cell was cancelled (and interrupted)
 * @param restarted the worker died or was killed and a new one started: variables and imports are lost
 * @param note      what happened to the worker, in one sentence for the model and the user, or null if nothing did
 */
public record CellResult(String text, long dropped, String error, List<Figure> figures, List<DataFile> files,
                         boolean timedOut, boolean cancelled, boolean restarted, String note) {

    public CellResult {
        figures = List.copyOf(figures);
        files = List.copyOf(files);
    }

    /** The text the model reads before truncation: the output, then the traceback. */
    public String output() {
        return error == null ? text : text + error;
    }
}
