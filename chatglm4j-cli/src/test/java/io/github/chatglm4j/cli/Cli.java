package io.github.chatglm4j.cli;

import io.github.chatglm4j.testing.Fixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Runs the chatglm command in-process with captured streams, and reads the fixtures. */
final class Cli {
    private Cli() {
    }

    /** What one run printed and returned. */
    record Run(int exitCode, String out, String err) {
        List<String> outLines() {
            return out.lines().toList();
        }

        List<String> errLines() {
            return err.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
        }
    }

    static Run withStdin(String stdin, String... args) {
        return run(System.getenv(), stdin, args);
    }

    /** A run with these environment variables instead of the process's (HF_ENDPOINT, HF_HUB_CACHE ...). */
    static Run withEnv(Map<String, String> env, String... args) {
        return run(env, "", args);
    }

    static Run withEnvAndStdin(Map<String, String> env, String stdin, String... args) {
        return run(env, stdin, args);
    }

    private static Run run(Map<String, String> env, String stdin, String... args) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        var in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        int code;
        try (var o = new PrintStream(out, true, StandardCharsets.UTF_8); var e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.run(args, Io.plain(in, o, e).withEnv(env));
        }
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Run run(String... args) {
        return withStdin("", args);
    }

    static Path fixtures() {
        return Fixtures.root();
    }

    static Path tiny() {
        return fixtures().resolve("tiny-chatglm3");
    }

    static Path tiny32k() {
        return fixtures().resolve("tiny-chatglm3-32k");
    }

    static JsonNode json(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode json(String text) {
        try {
            return new ObjectMapper().readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = array.get(i).asInt();
        }
        return ids;
    }

    static String csv(int[] ids) {
        var sb = new StringBuilder();
        for (int id : ids) {
            sb.append(sb.isEmpty() ? "" : ",").append(id);
        }
        return sb.toString();
    }
}
