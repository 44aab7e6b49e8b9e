package io.github.chatglm4j.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Files are written exclusively and atomically (issue 10, item 7): a link planted where the temporary file goes is
 * never followed, a link at the target is replaced rather than written through, and an abandoned write leaves nothing.
 */
class SafeFilesTest {
    @TempDir
    Path dir;

    private Path victim() throws IOException {
        return Files.writeString(dir.resolve("victim.txt"), "precious");
    }

    @Test
    void aLinkAtTheTemporaryNameIsNotFollowed() throws IOException {
        Path victim = victim();
        Path target = dir.resolve("out.bin");
        Path temp = dir.resolve("out.bin.planted.tmp");
        Files.createSymbolicLink(temp, victim);
        assertThatThrownBy(() -> SafeFiles.create(target, temp)).isInstanceOf(FileAlreadyExistsException.class)
                .hasMessageContaining("not opened");
        Files.delete(temp);
        Files.createSymbolicLink(temp, dir.resolve("does-not-exist-yet"));
        assertThatThrownBy(() -> SafeFiles.create(target, temp)).as("a dangling link too").isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.exists(dir.resolve("does-not-exist-yet"))).isFalse();
        assertThat(Files.readString(victim)).isEqualTo("precious");
    }

    @Test
    void aLinkAtTheTargetIsReplacedNotWrittenThrough() throws IOException {
        Path victim = victim();
        Path target = dir.resolve("out.bin");
        Files.createSymbolicLink(target, victim);
        SafeFiles.write(target, "new".getBytes(StandardCharsets.UTF_8), true);
        assertThat(Files.isSymbolicLink(target)).isFalse();
        assertThat(Files.readString(target)).isEqualTo("new");
        assertThat(Files.readString(victim)).isEqualTo("precious");
    }

    @Test
    void anAbandonedWriteLeavesNothingAndAnExistingTargetIsKeptUnlessReplaced() throws IOException {
        Path target = dir.resolve("out.bin");
        int open = SafeFiles.openCount();
        try (SafeFiles.Pending p = SafeFiles.create(target)) {
            assertThat(p.temp().getFileName().toString()).startsWith("out.bin.").endsWith(".tmp");
            assertThat(Files.exists(p.temp())).isTrue();
            assertThat(SafeFiles.openCount()).as("registered for the shutdown hook").isEqualTo(open + 1);
        }
        assertThat(SafeFiles.openCount()).isEqualTo(open);
        assertThat(list()).isEmpty();
        Files.writeString(target, "old");
        assertThatThrownBy(() -> SafeFiles.write(target, new byte[]{1}, false)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(target)).isEqualTo("old");
        assertThat(list()).containsExactly("out.bin");
    }

    @Test
    void theGgufWriterIgnoresAFileAtTheOldFixedTemporaryName() throws IOException {
        Path victim = victim();
        Path out = dir.resolve("m.gguf");
        Files.createSymbolicLink(dir.resolve("m.gguf.tmp"), victim);
        try (var w = io.github.chatglm4j.format.gguf.GgufWriter.create(out, java.util.Map.of(), java.util.List.of(), false)) {
            w.finish();
        }
        assertThat(Files.readString(victim)).isEqualTo("precious");
        assertThat(Files.size(out)).isPositive();
    }

    private java.util.List<String> list() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals("victim.txt")).sorted().toList();
        }
    }
}
