package io.github.chatglm4j.tokenizer;

import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.tokenizer.ProtoReader.ProtoFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading tokenizer.model: the protobuf walk, unknown fields, and clear errors for unusable files. */
class ModelFileTest {
    @TempDir
    Path tmp;

    @Test
    void realModelHasReferenceSettings() throws Exception {
        // reference doc 2.1: BPE, byte fallback, unk/bos/eos 0/1/2, pad -1, identity normalizer,
        // dummy prefix on, extra whitespace kept
        SentencePieceModel m = SentencePieceModel.parse(Files.readAllBytes(TokenizerFixtures.modelFile()));
        assertThat(m.pieces()).hasSize(64789);
        assertThat(m.modelType()).isEqualTo(SentencePieceModel.MODEL_BPE);
        assertThat(m.byteFallback()).isTrue();
        assertThat(List.of(m.unkId(), m.bosId(), m.eosId(), m.padId())).containsExactly(0, 1, 2, -1);
        assertThat(m.normalizerName()).isEqualTo("identity");
        assertThat(m.hasCharsMap()).isFalse();
        assertThat(m.addDummyPrefix()).isTrue();
        assertThat(m.removeExtraWhitespaces()).isFalse();
        assertThat(m.escapeWhitespaces()).isTrue();
        assertThat(m.types()[0]).isEqualTo(PieceType.UNKNOWN);
        assertThat(m.types()[1]).isEqualTo(PieceType.CONTROL);
        assertThat(m.types()[3]).isEqualTo(PieceType.BYTE);
        assertThat(m.types()[259]).isEqualTo(PieceType.NORMAL);
        assertThat(m.scores()[259]).isEqualTo(0f);
        assertThat(m.scores()[260]).isEqualTo(-1f);
    }

    @Test
    void unknownFieldsOfEveryWireTypeAreSkipped() throws Exception {
        var piece = new Proto()
                .string(1, "▁hi").fixed32(2, Float.floatToIntBits(-2.5f)).varint(3, 1)
                .varint(9, 300).fixed64(10, 0x1122334455667788L).bytes(11, new byte[]{1, 2, 3})
                .group(12, new Proto().varint(1, 5).group(2, new Proto().fixed32(3, 7))).fixed32(13, 9);
        var trainer = new Proto().varint(3, 2).varint(35, 1).group(99, new Proto().string(1, "x")).varint(40, 0);
        var normalizer = new Proto().string(1, "identity").varint(4, 0).fixed64(77, 1L);
        byte[] model = new Proto()
                .varint(100, 1)
                .message(1, new Proto().string(1, "<unk>").varint(3, 2))
                .message(1, piece)
                .fixed64(101, -1L)
                .message(2, trainer)
                .group(102, new Proto().bytes(1, new byte[5]))
                .message(3, normalizer)
                .fixed32(103, 0)
                .toBytes();
        SentencePieceModel m = SentencePieceModel.parse(model);
        assertThat(m.pieces()).containsExactly("<unk>", "▁hi");
        assertThat(m.scores()).containsExactly(0f, -2.5f);
        assertThat(m.types()).containsExactly(PieceType.UNKNOWN, PieceType.NORMAL);
        assertThat(m.modelType()).isEqualTo(SentencePieceModel.MODEL_BPE);
        assertThat(m.byteFallback()).isTrue();
        assertThat(m.removeExtraWhitespaces()).isFalse();
        assertThat(m.addDummyPrefix()).as("proto default").isTrue();
    }

    @Test
    void unknownFieldsAppendedToRealFileDoNotChangeEncoding() throws IOException {
        byte[] real = Files.readAllBytes(TokenizerFixtures.modelFile());
        byte[] extra = new Proto().varint(200, 42).fixed64(201, 7L).fixed32(202, 7)
                .group(203, new Proto().string(1, "ignored")).bytes(204, new byte[100]).toBytes();
        Path file = tmp.resolve("extended.model");
        Files.write(file, concat(real, extra));
        ChatGLMTokenizer tok = ChatGLMTokenizer.load(file);
        for (var c : TokenizerFixtures.texts()) {
            assertThat(tok.encode(c.get("text").asText())).containsExactly(TokenizerFixtures.ints(c.get("ids")));
        }
    }

    @Test
    void malformedProtobufIsRejected() {
        assertThatThrownBy(() -> SentencePieceModel.parse(new Proto().varint(1, 1).toBytes()))
                .as("pieces field with the wrong wire type is skipped, leaving no pieces")
                .isInstanceOf(ProtoFormatException.class).hasMessageContaining("no pieces");
        assertThatThrownBy(() -> SentencePieceModel.parse(new byte[]{0x0A, 0x7F, 0x01}))
                .isInstanceOf(ProtoFormatException.class).hasMessageContaining("truncated");
        assertThatThrownBy(() -> SentencePieceModel.parse(new byte[]{(byte) 0x80, (byte) 0x80}))
                .isInstanceOf(ProtoFormatException.class).hasMessageContaining("truncated varint");
        assertThatThrownBy(() -> SentencePieceModel.parse(new byte[]{0x0C}))
                .as("end group without start").isInstanceOf(ProtoFormatException.class).hasMessageContaining("end of group");
        assertThatThrownBy(() -> SentencePieceModel.parse(new byte[]{0x0B, 0x14}))
                .as("group 1 closed by group 2").isInstanceOf(ProtoFormatException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> SentencePieceModel.parse(new byte[]{0x0E}))
                .as("wire type 6").isInstanceOf(ProtoFormatException.class).hasMessageContaining("wire type 6");
        assertThatThrownBy(() -> SentencePieceModel.parse(new Proto().message(1, new Proto().varint(3, 9)).toBytes()))
                .isInstanceOf(ProtoFormatException.class).hasMessageContaining("unknown type 9");
    }

    @Test
    void missingFileGivesOneLineModelFormatException() {
        Path missing = tmp.resolve("nope.model");
        assertThatThrownBy(() -> ChatGLMTokenizer.load(missing))
                .isInstanceOf(ModelFormatException.class)
                .hasMessage(missing + ": file not found");
        assertThatThrownBy(() -> ChatGLMTokenizer.load(tmp))
                .isInstanceOf(ModelFormatException.class)
                .hasMessage(tmp + ": is a directory, expected the tokenizer.model file");
    }

    @Test
    void truncatedOrCorruptFilesGiveModelFormatException() throws IOException {
        byte[] real = Files.readAllBytes(TokenizerFixtures.modelFile());
        var rnd = new Random(42);
        for (int i = 0; i < 20; i++) {
            int cut = i == 0 ? 0 : rnd.nextInt(real.length);
            Path file = tmp.resolve("cut" + i + ".model");
            Files.write(file, Arrays.copyOf(real, cut));
            assertThatThrownBy(() -> ChatGLMTokenizer.load(file)).as("file cut at %d bytes", cut)
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessageStartingWith(file + ": ")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
        for (int i = 0; i < 40; i++) {
            byte[] garbage = new byte[rnd.nextInt(2000)];
            rnd.nextBytes(garbage);
            Path file = tmp.resolve("garbage" + i + ".model");
            Files.write(file, garbage);
            assertThatThrownBy(() -> ChatGLMTokenizer.load(file)).isInstanceOf(ModelFormatException.class);
        }
        Path text = tmp.resolve("config.json");
        Files.writeString(text, "{\"model_type\": \"chatglm\"}");
        assertThatThrownBy(() -> ChatGLMTokenizer.load(text)).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(text + ": ");
    }

    @Test
    void otherModelKindsAreRejected() throws IOException {
        byte[] real = Files.readAllBytes(TokenizerFixtures.modelFile());
        // A repeated embedded message merges into the first, so this turns the model into a unigram one.
        Path unigram = tmp.resolve("unigram.model");
        Files.write(unigram, concat(real, new Proto().message(2, new Proto().varint(3, 1)).toBytes()));
        assertThatThrownBy(() -> ChatGLMTokenizer.load(unigram)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("model type 1 is not supported");
        Path nfkc = tmp.resolve("nfkc.model");
        Files.write(nfkc, concat(real, new Proto().message(3, new Proto().string(1, "nmt_nfkc").bytes(2, new byte[]{1, 2})).toBytes()));
        assertThatThrownBy(() -> ChatGLMTokenizer.load(nfkc)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("nmt_nfkc");
        Path small = tmp.resolve("small.model");
        Files.write(small, new Proto().message(1, new Proto().string(1, "<unk>").varint(3, 2))
                .message(2, new Proto().varint(3, 2)).toBytes());
        assertThatThrownBy(() -> ChatGLMTokenizer.load(small)).isInstanceOf(ModelFormatException.class)
                .hasMessage(small + ": expected 64789 SentencePiece pieces (the ChatGLM3 vocabulary), found 1");
    }

    @Test
    void fromVocabularyMatchesLoadedModel() throws Exception {
        SentencePieceModel m = SentencePieceModel.parse(Files.readAllBytes(TokenizerFixtures.modelFile()));
        int[] types = Arrays.stream(m.types()).mapToInt(t -> t.code).toArray();
        ChatGLMTokenizer plain = ChatGLMTokenizer.fromVocabulary(m.pieces(), m.scores(), types);

        // The shape a GGUF converter writes: placeholder strings for control pieces, then the specials, then padding.
        var pieces = new ArrayList<>(m.pieces());
        pieces.set(0, "<unk>");
        pieces.set(1, "");
        pieces.set(2, "");
        pieces.addAll(ChatGLMTokenizer.SPECIAL_TOKENS);
        var allTypes = Arrays.copyOf(types, 65024);
        var allScores = Arrays.copyOf(m.scores(), 65024);
        for (int id = 64789; id < 65024; id++) {
            if (id >= pieces.size()) {
                pieces.add("[PAD" + id + "]");
            }
            allTypes[id] = id < 64798 ? 3 : 5;
        }
        ChatGLMTokenizer padded = ChatGLMTokenizer.fromVocabulary(pieces, allScores, allTypes);

        for (ChatGLMTokenizer tok : List.of(plain, padded)) {
            assertThat(tok.vocabSize()).isEqualTo(64798);
            for (var c : TokenizerFixtures.texts()) {
                int[] ids = TokenizerFixtures.ints(c.get("ids"));
                assertThat(tok.encode(c.get("text").asText())).containsExactly(ids);
                assertThat(tok.decode(ids)).isEqualTo(c.get("decoded").asText());
            }
            assertThat(tok.encodeWithSpecialTokens("<|user|>hi")).startsWith(ChatGLMTokenizer.USER);
        }
    }

    @Test
    void fromVocabularyRejectsInconsistentInput() {
        assertThatThrownBy(() -> ChatGLMTokenizer.fromVocabulary(List.of("<unk>", "a"), new float[1], new int[2]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 pieces but 1 scores");
        assertThatThrownBy(() -> ChatGLMTokenizer.fromVocabulary(List.of("<unk>", "a"), new float[2], new int[]{2, 7}))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("piece 1 has unknown type 7");
        assertThatThrownBy(() -> ChatGLMTokenizer.fromVocabulary(List.of("<unk>", "a"), new float[2], new int[]{2, 1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected 64789");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** A protobuf writer for building test inputs. */
    static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            key(field, 0);
            writeVarint(value);
            return this;
        }

        Proto fixed64(int field, long value) {
            key(field, 1);
            for (int i = 0; i < 8; i++) {
                out.write((int) (value >>> (8 * i)));
            }
            return this;
        }

        Proto fixed32(int field, int value) {
            key(field, 5);
            for (int i = 0; i < 4; i++) {
                out.write(value >>> (8 * i));
            }
            return this;
        }

        Proto bytes(int field, byte[] value) {
            key(field, 2);
            writeVarint(value.length);
            out.writeBytes(value);
            return this;
        }

        Proto string(int field, String value) {
            return bytes(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto message) {
            return bytes(field, message.toBytes());
        }

        Proto group(int field, Proto content) {
            key(field, 3);
            out.writeBytes(content.toBytes());
            key(field, 4);
            return this;
        }

        byte[] toBytes() {
            return out.toByteArray();
        }

        private void key(int field, int wireType) {
            writeVarint(((long) field << 3) | wireType);
        }

        private void writeVarint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
