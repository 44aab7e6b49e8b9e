package io.github.chatglm4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.chatglm4j.agent.AgentEvent;
import io.github.chatglm4j.agent.AgentTurn;
import io.github.chatglm4j.agent.Observation;
import io.github.chatglm4j.agent.interpreter.DataFile;
import io.github.chatglm4j.agent.interpreter.Figure;
import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.ReplySplitter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How an agent turn reads in the terminal (plain style, as scripts see it). */
class AgentPrinterTest {
    @TempDir
    Path figures;

    @Test
    void callsResultsFiguresAndFilesAreShownInOrder() throws IOException {
        var text = new StringWriter();
        Path data = Path.of("/srv/conversation/data");
        var printer = new AgentPrinter(new PrintWriter(text), Style.PLAIN, figures, data);
        byte[] png = {(byte) 0x89, 'P', 'N', 'G'};
        var call = new AssistantReply.ToolCall("get_weather", new ObjectMapper().createObjectNode().put("city_name", "Beijing"),
                "tool_call(city_name='Beijing')");
        var code = new AssistantReply.CodeInterpreter("plot()\n");

        List<AgentEvent> events = List.of(
                new AgentEvent.Reply(1, new ReplySplitter.Part.Call("get_weather")),
                new AgentEvent.Reply(1, new ReplySplitter.Part.Code("```python\ntool_call(city_name='Beijing')\n```")),
                new AgentEvent.Call(1, call),
                new AgentEvent.Status(1, "calling get_weather"),
                new AgentEvent.Result(1, call, new Observation("sunny", "sunny", List.of(), List.of(), false)),
                new AgentEvent.Reply(2, new ReplySplitter.Part.Text("Let me plot it.")),
                new AgentEvent.Reply(2, new ReplySplitter.Part.Text("\n")),
                new AgentEvent.Reply(2, new ReplySplitter.Part.Call("interpreter")),
                new AgentEvent.Reply(2, new ReplySplitter.Part.Code("```python\nplot()\n```")),
                new AgentEvent.Call(2, code),
                new AgentEvent.Status(2, "running the code"),
                new AgentEvent.Result(2, code, new Observation("[Image]", "", List.of(new Figure(png)),
                        List.of(new DataFile("out/table.csv", 2048)), false)),
                new AgentEvent.Reply(3, new ReplySplitter.Part.Text("Done.")),
                new AgentEvent.Finished(new AgentTurn(List.of(), "Done.", AgentTurn.Outcome.ANSWERED)));
        events.forEach(printer::on);

        Path figure = figures.resolve("figure-1.png");
        assertThat(text.toString()).isEqualTo("""
                ChatGLM:\s
                [tool call: get_weather]
                ```python
                tool_call(city_name='Beijing')
                ```
                → get_weather {"city_name":"Beijing"}
                [calling get_weather]
                [result]
                sunny
                ChatGLM: Let me plot it.
                [code interpreter]
                ```python
                plot()
                ```
                [running the code]
                [result]
                [figure saved: %s]
                [files written: /srv/conversation/data/out/table.csv (2.0 KiB)]
                ChatGLM: Done.
                """.formatted(figure));
        assertThat(Files.readAllBytes(figure)).isEqualTo(png);
    }

    @Test
    void anExistingFigureFileIsNeverOverwritten() throws IOException {
        Files.writeString(figures.resolve("figure-1.png"), "earlier");
        var printer = new AgentPrinter(new PrintWriter(new StringWriter()), Style.PLAIN, figures, null);
        var code = new AssistantReply.CodeInterpreter("");

        printer.on(new AgentEvent.Result(1, code, new Observation("[Image]", "", List.of(new Figure(new byte[]{1})), List.of(), false)));

        assertThat(Files.readString(figures.resolve("figure-1.png"))).isEqualTo("earlier");
        assertThat(Files.readAllBytes(figures.resolve("figure-2.png"))).containsExactly(1);
    }

    @Test
    void theRoundLimitAndACancelAreSaid() {
        var text = new StringWriter();
        var printer = new AgentPrinter(new PrintWriter(text), Style.PLAIN, figures, null);

        printer.on(new AgentEvent.Finished(new AgentTurn(List.of(), null, AgentTurn.Outcome.ROUND_LIMIT)));
        printer.on(new AgentEvent.Finished(new AgentTurn(List.of(), null, AgentTurn.Outcome.CANCELLED)));

        assertThat(text.toString()).isEqualTo("[stopped after 0 model turns: the model was still calling tools]\n[stopped]\n");
    }
}
