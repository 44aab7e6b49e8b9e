package io.github.chatglm4j.cli;

import io.github.chatglm4j.chat.ResponseParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class ReplyPrinterTest {

    /** Streams {@code raw} in pieces of {@code size} characters and returns what the user sees. */
    private static String show(String raw, int size) {
        var text = new StringWriter();
        var printer = new ReplyPrinter(new PrintWriter(text), Style.PLAIN, false);
        for (int i = 0; i < raw.length(); i += size) {
            printer.onToken(1, raw.substring(i, Math.min(raw.length(), i + size)));
        }
        printer.finish(ResponseParser.parse(raw, true).reply());
        return text.toString();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 1000})
    void plainTextLosesTheEmptyMetadataLineAndOuterWhitespace(int pieceSize) {
        assertThat(show("\n 你好👋！我是 ChatGLM3。\n\n", pieceSize)).isEqualTo("你好👋！我是 ChatGLM3。\n");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 1000})
    void aToolCallShowsTheToolItsCodeAndTheParsedArguments(int pieceSize) {
        String raw = "get_weather\n```python\ntool_call(city='北京', days=3)\n```";
        assertThat(show(raw, pieceSize)).isEqualTo("""
                [tool call: get_weather]
                ```python
                tool_call(city='北京', days=3)
                ```
                → call get_weather with {"city":"北京","days":3}
                """);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 1000})
    void textBeforeACallIsItsOwnSegment(int pieceSize) {
        String raw = "\n 我来查一下。<|assistant|>track\n ```python\ntool_call(symbol=\"10111\")\n```";
        assertThat(show(raw, pieceSize)).isEqualTo("""
                我来查一下。
                [tool call: track]
                ```python
                tool_call(symbol="10111")
                ```
                → call track with {"symbol":"10111"}
                """);
    }

    @Test
    void codeForTheInterpreterIsShownNotRun() {
        assertThat(show(" interpreter\n ```python\nprint(2 ** 100)\n```", 1)).isEqualTo("""
                [code interpreter]
                ```python
                print(2 ** 100)
                ```
                → code for the interpreter (run it with --interpreter)
                """);
    }

    @Test
    void anUnreadableCallSaysWhy() {
        String shown = show("get_weather\n```python\ntool_call(city=\n```", 1000);
        assertThat(shown).startsWith("[tool call: get_weather]\n```python\ntool_call(city=\n```\n→ cannot read the call to get_weather");
    }

    @Test
    void textWithoutANewlineIsText() {
        assertThat(show("abc <| def", 1)).isEqualTo("abc <| def\n");
    }

    @Test
    void aLongFirstLineIsStreamedBeforeItsNewline() {
        var text = new StringWriter();
        var printer = new ReplyPrinter(new PrintWriter(text), Style.PLAIN, false);
        printer.onToken(1, "x".repeat(70));
        assertThat(text.toString()).as("shown while generating, not only at the end").isEqualTo("x".repeat(70));
    }

    @Test
    void anEmptyReplyStillEndsThePromptLine() {
        var text = new StringWriter();
        var printer = new ReplyPrinter(new PrintWriter(text), Style.PLAIN, true);
        printer.finish(ResponseParser.parse("", false).reply());
        assertThat(text.toString()).isEqualTo("\n");
    }
}
