package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A vocabulary as GGUF stores it ({@code tokenizer.ggml.tokens}, {@code scores}, {@code token_type}): one entry per
 * embedding row.
 *
 * @param types SentencePiece type numbers: normal 1, unknown 2, control 3, user-defined 4, unused 5, byte 6
 */
record GgufVocabulary(List<String> tokens, float[] scores, int[] types) {
    public static final int NORMAL = 1;
    public static final int UNKNOWN = 2;
    public static final int CONTROL = 3;
    public static final int USER_DEFINED = 4;
    public static final int UNUSED = 5;
    public static final int BYTE = 6;

    public GgufVocabulary {
        tokens = List.copyOf(tokens);
        scores = scores.clone();
        types = types.clone();
        if (scores.length != tokens.size() || types.length != tokens.size()) {
            throw new IllegalArgumentException(tokens.size() + " tokens but " + scores.length + " scores and " + types.length + " types");
        }
    }

    @Override
    public float[] scores() {
        return scores.clone();
    }

    @Override
    public int[] types() {
        return types.clone();
    }

    public int size() {
        return tokens.size();
    }

    /**
     * ChatGLM3's vocabulary the way llama.cpp's converter writes it: the SentencePiece pieces with their scores and
     * types, except that ids 1 and 2 are spelled {@code <bos>} and {@code <eos>}; then the nine special tokens
     * (control, score 0); then {@code [PAD<id>]} entries (unused, score 0) up to the embedding's row count.
     *
     * @param rows the embedding's row count ({@code padded_vocab_size}, 65024), at least the tokenizer's 64798 ids
     */
    public static GgufVocabulary of(ChatGLMTokenizer tokenizer, int rows) {
        if (rows < tokenizer.vocabSize()) {
            throw new IllegalArgumentException("the embedding has " + rows + " rows, fewer than the " + tokenizer.vocabSize() + " token ids");
        }
        var tokens = new ArrayList<String>(rows);
        float[] scores = new float[rows];
        int[] types = new int[rows];
        for (int id = 0; id < rows; id++) {
            if (id >= tokenizer.vocabSize()) {
                tokens.add("[PAD" + id + "]");
                types[id] = UNUSED;
                continue;
            }
            tokens.add(switch (id) {
                case ChatGLMTokenizer.BOS -> "<bos>";
                case ChatGLMTokenizer.EOS -> "<eos>";
                default -> tokenizer.piece(id);
            });
            scores[id] = tokenizer.score(id);
            types[id] = tokenizer.pieceType(id);
        }
        return new GgufVocabulary(tokens, scores, types);
    }

    /**
     * The tokenizer this vocabulary describes. llama.cpp's spellings of ids 1 and 2 are put back to SentencePiece's
     * {@code <s>} and {@code </s>} so that pieces read the same as with {@code tokenizer.model}.
     *
     * @throws IllegalArgumentException if it is not the ChatGLM3 vocabulary layout
     */
    public ChatGLMTokenizer tokenizer() {
        var pieces = new ArrayList<>(tokens);
        if (pieces.size() > ChatGLMTokenizer.EOS) {
            if (pieces.get(ChatGLMTokenizer.BOS).equals("<bos>") && types[ChatGLMTokenizer.BOS] == CONTROL) {
                pieces.set(ChatGLMTokenizer.BOS, "<s>");
            }
            if (pieces.get(ChatGLMTokenizer.EOS).equals("<eos>") && types[ChatGLMTokenizer.EOS] == CONTROL) {
                pieces.set(ChatGLMTokenizer.EOS, "</s>");
            }
        }
        return ChatGLMTokenizer.fromVocabulary(pieces, scores, types);
    }
}
