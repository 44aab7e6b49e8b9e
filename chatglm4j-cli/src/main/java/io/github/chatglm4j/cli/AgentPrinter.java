package io.github.chatglm4j.cli;

import io.github.chatglm4j.agent.AgentEvent;
import io.github.chatglm4j.agent.AgentListener;
import io.github.chatglm4j.agent.AgentTurn;
import io.github.chatglm4j.agent.Observation;
import io.github.chatglm4j.agent.interpreter.DataFile;
import io.github.chatglm4j.agent.interpreter.Figure;
import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.ReplySplitter;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Locale;

/**
 * Shows an agent turn in the terminal: each model turn after "ChatGLM: " (a call as a header and its code), the parsed
 * call, what runs, and the result; figures are saved as PNG files and their paths shown, and files the code wrote are
 * listed with their place on the host.
 */
final class AgentPrinter implements AgentListener {
    /** A result is shown up to this many characters; the model's share is cut at 1024 anyway. */
    static final int DISPLAY_LIMIT = 4000;

    private final PrintWriter out;
    private final Style style;
    private final PartWriter writer;
    private final Path figures;
    private final Path data;
    private int figureCount;
    private int round;

    /**
     * @param figures where figures are written (a folder only the JVM writes to), or null
     * @param data    the host folder behind /mnt/data, or null
     */
    AgentPrinter(PrintWriter out, Style style, Path figures, Path data) {
        this.out = out;
        this.style = style;
        this.writer = new PartWriter(out, style, false);
        this.figures = figures;
        this.data = data;
    }

    @Override
    public void on(AgentEvent event) {
        switch (event) {
            case AgentEvent.Reply r -> reply(r.round(), r.part());
            case AgentEvent.Call c -> call(c.call());
            case AgentEvent.Status s -> writer.note("[" + s.message() + "]");
            case AgentEvent.Result r -> result(r.observation());
            case AgentEvent.Finished f -> finished(f.turn());
        }
        out.flush();
    }

    private void reply(int r, ReplySplitter.Part part) {
        if (r != round) {
            round = r;
            writer.endLine();
            out.print(style.bold("ChatGLM: "));
            writer.lineOpened();
        }
        writer.write(part);
    }

    private void call(AssistantReply call) {
        switch (call) {
            case AssistantReply.ToolCall t -> writer.note("→ " + t.name() + " " + t.arguments());
            case AssistantReply.MalformedToolCall bad -> writer.note("→ " + bad.error());
            case AssistantReply.CodeInterpreter c -> { }
            case AssistantReply.Text t -> { }
        }
    }

    private void result(Observation o) {
        writer.note(o.failed() ? "[result: failed]" : "[result]");
        String shown = o.display();
        if (shown.length() > DISPLAY_LIMIT) {
            shown = shown.substring(0, DISPLAY_LIMIT) + "\n… (" + (o.display().length() - DISPLAY_LIMIT) + " more characters)";
        }
        if (!shown.isBlank()) {
            writer.print(shown);
            writer.endLine();
        }
        for (Figure f : o.figures()) {
            writer.note(figures == null ? "[figure: not saved]" : "[figure saved: " + save(f) + "]");
        }
        if (!o.files().isEmpty()) {
            var names = new ArrayList<String>();
            for (DataFile f : o.files()) {
                names.add((data == null ? f.sandboxPath() : data.resolve(f.name()).toString()) + " (" + size(f.size()) + ")");
            }
            writer.note("[files written: " + String.join(", ", names) + "]");
        }
    }

    private void finished(AgentTurn turn) {
        String why = switch (turn.outcome()) {
            case ANSWERED, LENGTH -> null;
            case ROUND_LIMIT -> "[stopped after " + turn.rounds().size() + " model turns: the model was still calling tools]";
            case CANCELLED -> "[stopped]";
            case AWAITING_OBSERVATION -> "[waiting for the result of the call]";
        };
        writer.endLine();
        if (why != null) {
            out.println(style.dim(why));
        }
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        return bytes < 1 << 20 ? String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0) : ProgressBar.bytes(bytes);
    }

    /** Writes a figure as figure-N.png, never over an existing file. */
    private Path save(Figure f) {
        while (true) {
            Path file = figures.resolve("figure-" + ++figureCount + ".png");
            try {
                Files.write(file, f.png(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                return file;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // an earlier session's figure: take the next number
            } catch (IOException e) {
                throw new UncheckedIOException("cannot save a figure in " + figures + ": " + e.getMessage(), e);
            }
        }
    }
}
