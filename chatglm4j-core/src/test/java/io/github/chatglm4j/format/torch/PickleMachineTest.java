package io.github.chatglm4j.format.torch;

import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.torch.TorchPickle.StorageRef;
import io.github.chatglm4j.format.torch.TorchPickle.StorageType;
import io.github.chatglm4j.format.torch.TorchPickle.TensorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The restricted pickle reader against streams written by Python's pickle module and by hand. */
class PickleMachineTest {
    private static final Path FILE = Path.of("test.bin");

    /**
     * The value PLAIN_VALUE of make_test_files.py, which Python pickled with protocols 2 and 4 (protocol 4 adds
     * FRAME, MEMOIZE, SHORT_BINUNICODE and STACK_GLOBAL).
     */
    @ParameterizedTest
    @ValueSource(strings = {"plain-values-p2.pkl", "plain-values-p4.pkl"})
    void plainValuesPickledByPythonReadBackEqual(String resource) throws IOException {
        var root = load(Files.readAllBytes(TestFiles.resource(resource)));

        var ordered = new LinkedHashMap<Object, Object>();
        ordered.put("b", 1L);
        ordered.put("a", 2L);
        var expected = new LinkedHashMap<Object, Object>();
        expected.put("text", "h\u00e9llo \u2713 \uD83D\uDE00");
        expected.put("empty", "");
        expected.put("long text", "x".repeat(300));
        expected.put("ints", List.of(0L, 1L, 255L, 256L, 65535L, 65536L, -1L, -129L, 2147483647L, -2147483648L,
                2147483648L, 1L << 40, -(1L << 40), Long.MAX_VALUE, Long.MIN_VALUE));
        expected.put("floats", List.of(0.0, -1.5, 1e300, 3.141592653589793, -0.0));
        expected.put("bools", PickleTuple.of(true, false));
        expected.put("none", null);
        expected.put("tuples", List.of(PickleTuple.of(), PickleTuple.of(1L), PickleTuple.of(1L, 2L),
                PickleTuple.of(1L, 2L, 3L), PickleTuple.of(1L, 2L, 3L, 4L)));
        expected.put("ordered", ordered);
        expected.put(7L, "int key");
        expected.put("shared", List.of(List.of("same"), List.of("same")));

        assertThat(root).isEqualTo(expected);
        var dict = (Map<?, ?>) root;
        assertThat(new ArrayList<Object>(dict.keySet())).as("dict key order").containsExactlyElementsOf(expected.keySet());
        assertThat(new ArrayList<Object>(((Map<?, ?>) dict.get("ordered")).keySet())).containsExactly((Object) "b", "a");
        var shared = (List<?>) dict.get("shared");
        assertThat(shared.get(0)).as("a memoized object is the same object when read again").isSameAs(shared.get(1));
        assertThat(dict.get("ints")).isInstanceOf(ArrayList.class);
    }

    @Test
    void binunicode8CarriesAnEightByteLength() {
        assertThat(load(hex("80048d0300000000000000616263 2e"))).isEqualTo("abc");
    }

    @Test
    void long1IsSignExtendedTwosComplement() {
        assertThat(load(hex("8002 8a00 2e"))).isEqualTo(0L);
        assertThat(load(hex("8002 8a01ff 2e"))).isEqualTo(-1L);
        assertThat(load(hex("8002 8a02ff7f 2e"))).isEqualTo(32767L);
        assertThat(load(hex("8002 8a0500000080ff 2e"))).isEqualTo(-2147483648L);
    }

    /** Per pickletools.dis of the fixture's data.pkl, its first item is the word embedding on storage '0'. */
    @Test
    void aTorchTensorBecomesAnInertReference() throws IOException {
        byte[] pickle;
        try (var zip = new ZipFile(Path.of(System.getProperty("chatglm.fixtures"))
                .resolve("tiny-chatglm3/pytorch_model.bin").toFile())) {
            pickle = zip.getInputStream(zip.getEntry("pytorch_model/data.pkl")).readAllBytes();
        }
        var stateDict = (Map<?, ?>) load(pickle);
        assertThat(stateDict).hasSize(17);
        var tensor = (TensorRef) stateDict.get("transformer.embedding.word_embeddings.weight");
        assertThat(tensor.storage()).isEqualTo(new StorageRef(new StorageType("HalfStorage"), "0", "cpu", 4161536));
        assertThat(tensor.storageOffset()).isZero();
        assertThat(tensor.size()).containsExactly(65024, 64);
        assertThat(tensor.stride()).containsExactly(64, 1);
    }

    /** Byte offsets are those pickletools.genops reports for each stream. */
    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', textBlock = """
            80 02 73 2e                 | byte 2: stack underflow
            80 02 4b 01 28 73 2e        | byte 5: stack underflow
            80 02 68 05 2e              | byte 2: memo index 5 read before it was written
            80 02 7d 28 4b 01 75 2e     | byte 6: SETITEMS with an odd number (1) of keys and values
            80 02 7d 5d 4b 01 73 2e     | byte 6: unsupported dict key of type list
            80 02 58 01 00 00 00 ff 2e  | byte 2: string is not valid UTF-8
            80 02 8a 09 00 00 00 00 00 00 00 00 00 2e | byte 2: LONG1 integer of 9 bytes does not fit in 64 bits
            80 02 4b 01 4b 02 2e        | byte 6: STOP with 2 values on the stack instead of one
            80 02 28 4b 01 2e           | byte 5: STOP with an unclosed MARK
            80 02 4b 01 29 52 2e        | byte 5: REDUCE calls a int, which is not callable here
            80 02 4b 01 51 2e           | byte 4: persistent id is not a torch storage reference
            80 06 2e                    | byte 0: unsupported pickle protocol 6
            80 02 5d 4b 01 62 2e        | byte 5: BUILD on a list
            80 02 4b 01 4b 02 86 4b 03 61 2e | byte 9: APPEND to a tuple of 2 instead of a list
            80 02 58 05 00 00 00 61 62  | byte 2: the pickle ends inside an opcode's argument
            80 02 4b 01                 | byte 4: the pickle ends unexpectedly, before its STOP opcode
            80 02 63 6f 73 0a           | byte 2: the pickle ends inside a GLOBAL name
            80 02 63 6f 73 0a 73 79 73 74 65 6d 0a 2e | byte 2: forbidden global os.system
            80 02 63 74 6f 72 63 68 0a 6c 6f 61 64 0a 2e | byte 2: forbidden global torch.load
            80 02 63 74 6f 72 63 68 0a 48 61 6c 66 53 74 6f 72 61 67 65 0a 29 52 2e | byte 22: REDUCE calls a torch.HalfStorage
            80 02 63 63 6f 6c 6c 65 63 74 69 6f 6e 73 0a 4f 72 64 65 72 65 64 44 69 63 74 0a 4b 01 85 52 2e | byte 30: collections.OrderedDict called with 1 arguments
            80 02 63 74 6f 72 63 68 2e 5f 75 74 69 6c 73 0a 5f 72 65 62 75 69 6c 64 5f 74 65 6e 73 6f 72 5f 76 32 0a 4b 01 85 52 2e | byte 38: torch._utils._rebuild_tensor_v2 needs (storage, offset, size, stride, requires_grad, backward_hooks[, metadata]), got (int)
            80 02 8c 02 6f 73 8c 06 73 79 73 74 65 6d 93 2e | byte 14: forbidden global os.system
            80 02 30 2e                 | byte 2: unsupported pickle opcode POP (0x30)
            80 02 69 6f 73 0a 73 79 73 74 65 6d 0a 2e | byte 2: unsupported pickle opcode INST (0x69)
            """)
    void malformedOrForbiddenStreamsAreRefusedWithTheirByteOffset(String bytes, String expected) {
        assertThatThrownBy(() -> load(hex(bytes)))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith("test.bin: data.pkl, ")
                .hasMessageContaining(expected);
    }

    private static byte[] hex(String spaced) {
        return HexFormat.of().parseHex(spaced.replaceAll("\\s+", ""));
    }

    private static Object load(byte[] pickle) {
        return PickleMachine.load(MemorySegment.ofArray(pickle), new TorchPickle(), FILE, "data.pkl");
    }
}
