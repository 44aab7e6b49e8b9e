package io.github.chatglm4j.tokenizer;

import io.github.chatglm4j.tokenizer.ProtoReader.ProtoFormatException;

import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a SentencePiece {@code ModelProto} (sentencepiece_model.proto) that encoding and decoding need.
 * Field numbers: ModelProto pieces=1, trainer_spec=2, normalizer_spec=3; SentencePiece piece=1, score=2, type=3;
 * TrainerSpec model_type=3, treat_whitespace_as_suffix=24, byte_fallback=35, unk_id=40, bos_id=41, eos_id=42,
 * pad_id=43, unk_surface=44; NormalizerSpec name=1, precompiled_charsmap=2, add_dummy_prefix=3,
 * remove_extra_whitespaces=4, escape_whitespaces=5. Defaults are the proto's declared defaults.
 */
record SentencePieceModel(
        List<String> pieces,
        float[] scores,
        PieceType[] types,
        int modelType,
        boolean byteFallback,
        boolean treatWhitespaceAsSuffix,
        int unkId,
        int bosId,
        int eosId,
        int padId,
        String unkSurface,
        String normalizerName,
        boolean hasCharsMap,
        boolean addDummyPrefix,
        boolean removeExtraWhitespaces,
        boolean escapeWhitespaces) {

    static final int MODEL_UNIGRAM = 1;
    static final int MODEL_BPE = 2;

    /** The unk_surface default of sentencepiece: " ⁇ " (U+2047 between spaces). */
    static final String DEFAULT_UNK_SURFACE = " \u2047 ";

    static SentencePieceModel parse(byte[] bytes) throws ProtoFormatException {
        var pieces = new ArrayList<String>();
        var scores = new FloatList();
        var types = new ArrayList<PieceType>();
        var trainer = new Trainer();
        var normalizer = new Normalizer();

        ProtoReader in = new ProtoReader(bytes);
        while (in.hasMore()) {
            int tag = in.readTag();
            switch (tag) {
                case (1 << 3) | ProtoReader.LENGTH_DELIMITED -> readPiece(in.readMessage(), pieces, scores, types);
                case (2 << 3) | ProtoReader.LENGTH_DELIMITED -> trainer.read(in.readMessage());
                case (3 << 3) | ProtoReader.LENGTH_DELIMITED -> normalizer.read(in.readMessage());
                default -> in.skipField(tag);
            }
        }
        if (pieces.isEmpty()) {
            throw new ProtoFormatException("no pieces (not a SentencePiece model)");
        }
        return new SentencePieceModel(List.copyOf(pieces), scores.toArray(), types.toArray(PieceType[]::new),
                trainer.modelType, trainer.byteFallback, trainer.treatWhitespaceAsSuffix,
                trainer.unkId, trainer.bosId, trainer.eosId, trainer.padId, trainer.unkSurface,
                normalizer.name, normalizer.hasCharsMap, normalizer.addDummyPrefix,
                normalizer.removeExtraWhitespaces, normalizer.escapeWhitespaces);
    }

    private static void readPiece(ProtoReader in, List<String> pieces, FloatList scores, List<PieceType> types)
            throws ProtoFormatException {
        String piece = null;
        float score = 0f;
        PieceType type = PieceType.NORMAL;
        while (in.hasMore()) {
            int tag = in.readTag();
            switch (tag) {
                case (1 << 3) | ProtoReader.LENGTH_DELIMITED -> piece = in.readString();
                case (2 << 3) | ProtoReader.FIXED32 -> score = in.readFloat();
                case (3 << 3) | ProtoReader.VARINT -> {
                    int code = in.readInt32();
                    type = PieceType.ofCode(code);
                    if (type == null) {
                        throw new ProtoFormatException("piece " + pieces.size() + " has unknown type " + code);
                    }
                }
                default -> in.skipField(tag);
            }
        }
        if (piece == null) {
            throw new ProtoFormatException("piece " + pieces.size() + " has no text");
        }
        pieces.add(piece);
        scores.add(score);
        types.add(type);
    }

    private static final class Trainer {
        int modelType = MODEL_UNIGRAM;
        boolean byteFallback;
        boolean treatWhitespaceAsSuffix;
        int unkId = 0;
        int bosId = 1;
        int eosId = 2;
        int padId = -1;
        String unkSurface = DEFAULT_UNK_SURFACE;

        void read(ProtoReader in) throws ProtoFormatException {
            while (in.hasMore()) {
                int tag = in.readTag();
                switch (tag) {
                    case (3 << 3) | ProtoReader.VARINT -> modelType = in.readInt32();
                    case (24 << 3) | ProtoReader.VARINT -> treatWhitespaceAsSuffix = in.readBool();
                    case (35 << 3) | ProtoReader.VARINT -> byteFallback = in.readBool();
                    case (40 << 3) | ProtoReader.VARINT -> unkId = in.readInt32();
                    case (41 << 3) | ProtoReader.VARINT -> bosId = in.readInt32();
                    case (42 << 3) | ProtoReader.VARINT -> eosId = in.readInt32();
                    case (43 << 3) | ProtoReader.VARINT -> padId = in.readInt32();
                    case (44 << 3) | ProtoReader.LENGTH_DELIMITED -> unkSurface = in.readString();
                    default -> in.skipField(tag);
                }
            }
        }
    }

    private static final class Normalizer {
        String name = "";
        boolean hasCharsMap;
        boolean addDummyPrefix = true;
        boolean removeExtraWhitespaces = true;
        boolean escapeWhitespaces = true;

        void read(ProtoReader in) throws ProtoFormatException {
            while (in.hasMore()) {
                int tag = in.readTag();
                switch (tag) {
                    case (1 << 3) | ProtoReader.LENGTH_DELIMITED -> name = in.readString();
                    case (2 << 3) | ProtoReader.LENGTH_DELIMITED -> hasCharsMap = in.readBytes().length > 0;
                    case (3 << 3) | ProtoReader.VARINT -> addDummyPrefix = in.readBool();
                    case (4 << 3) | ProtoReader.VARINT -> removeExtraWhitespaces = in.readBool();
                    case (5 << 3) | ProtoReader.VARINT -> escapeWhitespaces = in.readBool();
                    default -> in.skipField(tag);
                }
            }
        }
    }

    private static final class FloatList {
        private float[] data = new float[1024];
        private int size;

        void add(float f) {
            if (size == data.length) {
                data = java.util.Arrays.copyOf(data, size * 2);
            }
            data[size++] = f;
        }

        float[] toArray() {
            return java.util.Arrays.copyOf(data, size);
        }
    }
}
