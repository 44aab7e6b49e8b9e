package io.github.chatglm4j.tokenizer;

import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.tokenizer.ProtoReader.ProtoFormatException;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The ChatGLM3 tokenizer: the SentencePiece BPE model of {@code tokenizer.model} (64,789 pieces) followed by nine
 * special tokens (ids 64789 to 64797). Encoding reproduces the reference ids exactly; decoding reproduces
 * Hugging Face {@code tokenizer.decode}. Immutable and thread-safe.
 */
public final class ChatGLMTokenizer {
    /** Pieces of the SentencePiece part; special token ids follow them. */
    public static final int SENTENCEPIECE_SIZE = 64789;
    /** All ids, specials included (the model's embedding has 65024 rows; rows from 64798 on are padding). */
    public static final int VOCAB_SIZE = 64798;

    public static final int UNK = 0;
    public static final int PAD = 0;
    public static final int BOS = 1;
    public static final int EOS = 2;
    public static final int MASK = 64789;
    public static final int GMASK = 64790;
    public static final int SMASK = 64791;
    public static final int SOP = 64792;
    public static final int EOP = 64793;
    public static final int SYSTEM = 64794;
    public static final int USER = 64795;
    public static final int ASSISTANT = 64796;
    public static final int OBSERVATION = 64797;

    /** The special token strings in id order, starting at {@link #MASK}. */
    public static final List<String> SPECIAL_TOKENS = List.of(
            "[MASK]", "[gMASK]", "[sMASK]", "sop", "eop", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>");

    private static final Map<String, Integer> SPECIAL_IDS;

    static {
        var m = new HashMap<String, Integer>();
        for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
            m.put(SPECIAL_TOKENS.get(i), SENTENCEPIECE_SIZE + i);
        }
        SPECIAL_IDS = Map.copyOf(m);
    }

    private final SentencePieceBpe sp;
    /** Per id, what it decodes to in one DecodePieces pass (HF) and in run-wise SPTokenizer.decode. */
    private final Surface[] hfSurfaces;
    private final Surface[] runSurfaces;

    private ChatGLMTokenizer(SentencePieceBpe sp) {
        if (sp.size() != SENTENCEPIECE_SIZE) {
            throw new IllegalArgumentException("expected " + SENTENCEPIECE_SIZE
                    + " SentencePiece pieces (the ChatGLM3 vocabulary), found " + sp.size());
        }
        if (sp.unkId() != UNK || sp.bosId() != BOS || sp.eosId() != EOS
                || sp.type(BOS) != PieceType.CONTROL || sp.type(EOS) != PieceType.CONTROL) {
            throw new IllegalArgumentException("expected <unk>, <s>, </s> as ids 0, 1, 2 (the ChatGLM3 vocabulary), found unk "
                    + sp.unkId() + ", bos " + sp.bosId() + ", eos " + sp.eosId());
        }
        this.sp = sp;
        this.hfSurfaces = new Surface[VOCAB_SIZE];
        this.runSurfaces = new Surface[VOCAB_SIZE];
        for (int id = 0; id < VOCAB_SIZE; id++) {
            if (id >= SENTENCEPIECE_SIZE) {
                var special = new Surface.Special(SPECIAL_TOKENS.get(id - SENTENCEPIECE_SIZE));
                hfSurfaces[id] = special;
                runSurfaces[id] = special;
                continue;
            }
            Surface normal = switch (sp.type(id)) {
                case BYTE -> new Surface.Byte(sp.byteValue(id));
                case CONTROL -> Surface.EMPTY;
                case UNKNOWN -> new Surface.Literal(sp.unkSurface());
                case NORMAL, USER_DEFINED, UNUSED -> Surface.Piece.of(sp.piece(id), sp.stripsLeadingSpace());
            };
            runSurfaces[id] = normal;
            // tokenization_chatglm.py's convert_id_to_token maps eos, bos and pad (= unk) to "", which
            // DecodePieces then passes through as an empty unknown piece.
            boolean vanishes = id == sp.eosId() || id == sp.bosId() || id == sp.unkId();
            hfSurfaces[id] = vanishes ? Surface.EMPTY : normal;
        }
    }

    /**
     * Loads a SentencePiece {@code tokenizer.model}.
     *
     * @throws ModelFormatException if the file is missing, unreadable, malformed or not the ChatGLM3 kind of model
     */
    public static ChatGLMTokenizer load(Path tokenizerModel) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(tokenizerModel);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(tokenizerModel, "file not found", e);
        } catch (IOException e) {
            String reason = Files.isDirectory(tokenizerModel) ? "is a directory, expected the tokenizer.model file"
                    : "cannot read: " + (e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.getMessage());
            throw new ModelFormatException(tokenizerModel, reason, e);
        }
        SentencePieceModel model;
        try {
            model = SentencePieceModel.parse(bytes);
        } catch (ProtoFormatException e) {
            throw new ModelFormatException(tokenizerModel, "not a valid SentencePiece model: " + e.getMessage(), e);
        }
        String unsupported = unsupportedFeature(model);
        if (unsupported != null) {
            throw new ModelFormatException(tokenizerModel, unsupported);
        }
        var options = new SentencePieceBpe.Options(model.byteFallback(), model.addDummyPrefix(),
                model.removeExtraWhitespaces(), model.escapeWhitespaces(), model.bosId(), model.eosId(),
                model.unkSurface());
        try {
            return new ChatGLMTokenizer(new SentencePieceBpe(model.pieces(), model.scores(), model.types(), options));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(tokenizerModel, e.getMessage(), e);
        }
    }

    private static String unsupportedFeature(SentencePieceModel m) {
        if (m.modelType() != SentencePieceModel.MODEL_BPE) {
            return "SentencePiece model type " + m.modelType() + " is not supported (ChatGLM3 uses BPE = 2)";
        }
        if (m.hasCharsMap()) {
            return "normalizer '" + m.normalizerName() + "' with a character map is not supported (ChatGLM3 uses identity)";
        }
        if (m.treatWhitespaceAsSuffix()) {
            return "treat_whitespace_as_suffix is not supported";
        }
        for (int i = 0; i < m.types().length; i++) {
            if (m.types()[i] == PieceType.BYTE && !m.byteFallback()) {
                return "byte piece " + i + " present but byte_fallback is off";
            }
        }
        return null;
    }

    /**
     * Builds the tokenizer from a vocabulary given as lists (as a GGUF file stores it), with ChatGLM3's normalizer
     * settings (dummy prefix on, extra whitespace kept, byte fallback when byte pieces are present).
     * The lists may hold just the 64,789 SentencePiece pieces, or continue with the nine special tokens in id
     * order and any padding entries after them; those are recognized by their strings and not used as pieces.
     *
     * @param types SentencePiece type numbers: NORMAL=1, UNKNOWN=2, CONTROL=3, USER_DEFINED=4, UNUSED=5, BYTE=6
     * @throws IllegalArgumentException with a one-line message if the vocabulary does not fit
     */
    public static ChatGLMTokenizer fromVocabulary(List<String> pieces, float[] scores, int[] types) {
        if (pieces.size() != scores.length || pieces.size() != types.length) {
            throw new IllegalArgumentException("vocabulary has " + pieces.size() + " pieces but " + scores.length
                    + " scores and " + types.length + " types");
        }
        int n = sentencePieceCount(pieces);
        var pieceTypes = new PieceType[n];
        boolean hasBytes = false;
        for (int i = 0; i < n; i++) {
            pieceTypes[i] = PieceType.ofCode(types[i]);
            if (pieceTypes[i] == null) {
                throw new IllegalArgumentException("piece " + i + " has unknown type " + types[i]);
            }
            hasBytes |= pieceTypes[i] == PieceType.BYTE;
        }
        var options = new SentencePieceBpe.Options(hasBytes, true, false, true, BOS, EOS,
                SentencePieceModel.DEFAULT_UNK_SURFACE);
        return new ChatGLMTokenizer(new SentencePieceBpe(pieces.subList(0, n), Arrays.copyOf(scores, n), pieceTypes, options));
    }

    /** Where the special tokens start in a vocabulary list, or its size if they are not there. */
    private static int sentencePieceCount(List<String> pieces) {
        int at = SENTENCEPIECE_SIZE;
        if (pieces.size() >= at + SPECIAL_TOKENS.size()
                && pieces.subList(at, at + SPECIAL_TOKENS.size()).equals(SPECIAL_TOKENS)) {
            return at;
        }
        return pieces.size();
    }

    /**
     * Encodes plain text: special-token strings stay ordinary text (the reference's default, which keeps a user
     * from injecting role tokens). No prefix tokens are added. Equals the reference {@code tokenizer.encode(text,
     * add_special_tokens=False)}.
     */
    public int[] encode(String text) {
        return sp.encode(text);
    }

    /**
     * Encodes text in which the nine special-token strings stand for their ids, like the reference with
     * {@code encode_special_tokens=True}: the text is split at every occurrence (leftmost first, also inside
     * words, e.g. the "sop" of "Aesop"), and each piece between them is encoded separately with its own dummy prefix.
     */
    public int[] encodeWithSpecialTokens(String text) {
        var out = new IntList();
        int segmentStart = 0;
        int i = 0;
        while (i < text.length()) {
            String special = specialAt(text, i);
            if (special == null) {
                i++;
                continue;
            }
            if (segmentStart < i) {
                out.addAll(sp.encode(text.substring(segmentStart, i)));
            }
            out.add(SPECIAL_IDS.get(special));
            i += special.length();
            segmentStart = i;
        }
        if (segmentStart < text.length()) {
            out.addAll(sp.encode(text.substring(segmentStart)));
        }
        return out.toArray();
    }

    private static String specialAt(String text, int i) {
        for (String s : SPECIAL_TOKENS) {
            if (text.startsWith(s, i)) {
                return s;
            }
        }
        return null;
    }

    /**
     * Decodes ids like Hugging Face {@code tokenizer.decode} (what the reference {@code chat} and
     * {@code stream_chat} use): one SentencePiece decode over all ids, in which special ids appear as their
     * strings, ids 0, 1, 2 and ids outside the vocabulary contribute nothing (but still end a run of byte pieces),
     * U+2581 becomes a space, byte pieces are joined into UTF-8 (each byte that is not part of a valid character
     * becomes U+FFFD), and a piece loses its leading space while nothing has been written yet (the dummy prefix,
     * as in sentencepiece 0.1.97). Special tokens do not restart that rule, so {@code <|assistant|>} followed by
     * {@code ▁interpreter} decodes to {@code "<|assistant|> interpreter"}.
     */
    public String decode(int[] ids) {
        return SurfaceDecoder.decode(ids, this::hfSurface, false);
    }

    /**
     * Decodes like the reference {@code SPTokenizer.decode}: special ids as their strings, and each run of ids
     * between them decoded on its own, so each run drops its own leading space ({@code "<|user|>\n 你好"}), id 0
     * decodes to {@code " ⁇ "} and ids 1, 2 to nothing. (The reference raises for ids outside the vocabulary; here
     * they contribute nothing.)
     */
    public String decodeRuns(int[] ids) {
        return SurfaceDecoder.decode(ids, this::runSurface, true);
    }

    /** A decoder for ids arriving one at a time, with the semantics of {@link #decode}. */
    public StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder(this::hfSurface);
    }

    private Surface hfSurface(int id) {
        return id >= 0 && id < VOCAB_SIZE ? hfSurfaces[id] : Surface.EMPTY;
    }

    private Surface runSurface(int id) {
        return id >= 0 && id < VOCAB_SIZE ? runSurfaces[id] : Surface.EMPTY;
    }

    /**
     * The piece string of an id as the vocabulary spells it ({@code ▁Hello}, {@code <0x0A>}, {@code <s>}), or the
     * special token string for special ids.
     *
     * @throws IndexOutOfBoundsException for ids outside [0, {@link #vocabSize()})
     */
    public String piece(int id) {
        if (id < 0 || id >= VOCAB_SIZE) {
            throw new IndexOutOfBoundsException("token id " + id + " is outside the vocabulary [0, " + VOCAB_SIZE + ")");
        }
        return id >= SENTENCEPIECE_SIZE ? SPECIAL_TOKENS.get(id - SENTENCEPIECE_SIZE) : sp.piece(id);
    }

    /** All ids including the special tokens: 64798. */
    public int vocabSize() {
        return VOCAB_SIZE;
    }

    /**
     * The SentencePiece score of an id (what a GGUF vocabulary stores next to the piece); 0 for the special tokens.
     *
     * @throws IndexOutOfBoundsException for ids outside [0, {@link #vocabSize()})
     */
    public float score(int id) {
        piece(id);
        return id >= SENTENCEPIECE_SIZE ? 0f : sp.score(id);
    }

    /**
     * The SentencePiece type number of an id, as GGUF's token_type array stores it: NORMAL=1, UNKNOWN=2,
     * CONTROL=3, USER_DEFINED=4, UNUSED=5, BYTE=6; the special tokens are CONTROL.
     *
     * @throws IndexOutOfBoundsException for ids outside [0, {@link #vocabSize()})
     */
    public int pieceType(int id) {
        piece(id);
        return id >= SENTENCEPIECE_SIZE ? PieceType.CONTROL.code : sp.type(id).code;
    }

    /** The id of a special token string such as {@code <|user|>}, or empty if it is not one of the nine. */
    public OptionalInt specialTokenId(String token) {
        Integer id = SPECIAL_IDS.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Whether the id is one of the nine special tokens (64789 to 64797). */
    public boolean isSpecial(int id) {
        return id >= SENTENCEPIECE_SIZE && id < VOCAB_SIZE;
    }

    /** A growable int array, to avoid boxing in the encoders. */
    private static final class IntList {
        private int[] data = new int[64];
        private int size;

        void add(int v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }

        void addAll(int[] values) {
            if (size + values.length > data.length) {
                data = Arrays.copyOf(data, Math.max(data.length * 2, size + values.length));
            }
            System.arraycopy(values, 0, data, size, values.length);
            size += values.length;
        }

        int[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
