package io.github.chatglm4j.agent;

import io.github.chatglm4j.agent.interpreter.CellResult;
import io.github.chatglm4j.agent.interpreter.DataFile;
import io.github.chatglm4j.agent.interpreter.Figure;
import io.github.chatglm4j.agent.tool.ToolResult;
import io.github.chatglm4j.chat.PythonText;

import java.util.List;

/**
 * The result of a call, twice: as the model reads it (after {@code <|observation|>}) and as the user sees it.
 *
 * @param content what the model is given: the result cut to the limit plus " [TRUNCATED]" as the reference demo
 *                does; for code, stripped, then {@code [Image]} for each figure and what happened to the worker
 * @param display the full result for the user (code output as printed, then any note)
 * @param figures figures the code left open, as PNG
 * @param files   files under /mnt/data the code created or changed
 * @param failed    the call did not succeed (unknown tool, bad arguments, an error, a timeout)
 * @param timedOut  the cell or tool ran past its timeout and was interrupted or stopped
 * @param restarted the interpreter's worker was restarted: variables and imports are lost
 */
public record Observation(String content, String display, List<Figure> figures, List<DataFile> files, boolean failed,
                          boolean timedOut, boolean restarted) {
    static final String TRUNCATED = " [TRUNCATED]";
    static final String IMAGE = "[Image]";

    public Observation {
        figures = List.copyOf(figures);
        files = List.copyOf(files);
    }

    /** A result that neither timed out nor restarted anything. */
    public Observation(String content, String display, List<Figure> figures, List<DataFile> files, boolean failed) {
        this(content, display, figures, files, failed, false, false);
    }

    /** A tool's result: its text, cut to {@code limit} characters. */
    public static Observation of(ToolResult result, int limit) {
        return new Observation(truncate(result.text(), limit), result.text(), List.of(), List.of(), result.failed());
    }

    /** A text of our own (a refusal, an unparsable call), cut to {@code limit} characters like any result. */
    public static Observation text(String text, int limit, boolean failed) {
        return new Observation(truncate(text, limit), text, List.of(), List.of(), failed);
    }

    /** A tool stopped at its timeout, saying so. */
    static Observation timedOut(String text, int limit) {
        return new Observation(truncate(text, limit), text, List.of(), List.of(), true, true, false);
    }

    /**
     * A code cell's result as the reference's code-interpreter demo gives it: the output (with the traceback) cut to
     * {@code limit} characters and then stripped, {@code [Image]} for each figure, and the note on timeouts and
     * restarts last.
     */
    public static Observation of(CellResult cell, int limit) {
        var content = new StringBuilder(PythonText.strip(truncate(cell.output(), limit)));
        for (int i = 0; i < cell.figures().size(); i++) {
            content.append(content.isEmpty() ? "" : "\n").append(IMAGE);
        }
        String display = cell.output();
        if (cell.dropped() > 0) {
            display += "[" + cell.dropped() + " more characters of output were not kept]\n";
        }
        if (cell.note() != null) {
            content.append(content.isEmpty() ? "" : "\n").append(cell.note());
            display += cell.note();
        }
        boolean failed = cell.error() != null || cell.timedOut() || cell.restarted() || cell.cancelled();
        return new Observation(content.toString(), display, cell.figures(), cell.files(), failed, cell.timedOut(), cell.restarted());
    }

    /** Python's {@code s[:limit] + " [TRUNCATED]"} for {@code len(s) > limit}, counting code points as Python does. */
    static String truncate(String s, int limit) {
        if (s.codePointCount(0, s.length()) <= limit) {
            return s;
        }
        return s.substring(0, s.offsetByCodePoints(0, limit)) + TRUNCATED;
    }
}
