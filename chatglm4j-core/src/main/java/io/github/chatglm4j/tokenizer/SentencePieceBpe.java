package io.github.chatglm4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * A SentencePiece BPE model: its piece table and the encoder of {@code SentencePieceProcessor.Encode} for
 * model_type BPE with the identity normalizer. The merge loop follows sentencepiece's bpe_model.cc: start from
 * single characters (user-defined pieces matched first and frozen), repeatedly merge the adjacent pair whose
 * concatenation is a known piece with the highest score (leftmost on ties), then split UNUSED pieces back into
 * their parts and turn unknown symbols into byte pieces (byte fallback) or one {@code <unk>} per unknown run.
 */
final class SentencePieceBpe {
    static final char SPACE_SYMBOL = '\u2581';

    private final String[] pieces;
    private final float[] scores;
    private final PieceType[] types;
    /** NORMAL, USER_DEFINED and UNUSED pieces: the ones merges may produce. */
    private final Map<String, Integer> mergeable;
    /** CONTROL, UNKNOWN and BYTE pieces, looked up first as sentencepiece's PieceToId does. */
    private final Map<String, Integer> reserved;
    private final int[] byteIds = new int[256];
    private final int[] byteValues;
    /** USER_DEFINED pieces by first char, longest first. */
    private final Map<Character, String[]> userDefined;
    private final int maxPieceLength;
    private final int unkId;
    private final int bosId;
    private final int eosId;
    private final boolean byteFallback;
    private final boolean addDummyPrefix;
    private final boolean removeExtraWhitespaces;
    private final boolean escapeWhitespaces;
    private final String unkSurface;

    /** Normalizer and trainer settings a model needs beyond its piece table. */
    record Options(boolean byteFallback, boolean addDummyPrefix, boolean removeExtraWhitespaces,
                   boolean escapeWhitespaces, int bosId, int eosId, String unkSurface) {
    }

    /**
     * @throws IllegalArgumentException when the table is inconsistent (duplicate pieces, malformed byte pieces,
     *                                  no unknown piece), with a one-line message
     */
    SentencePieceBpe(List<String> pieces, float[] scores, PieceType[] types, Options options) {
        int n = pieces.size();
        if (scores.length != n || types.length != n) {
            throw new IllegalArgumentException("vocabulary has " + n + " pieces but " + scores.length + " scores and "
                    + types.length + " types");
        }
        this.pieces = pieces.toArray(String[]::new);
        this.scores = scores.clone();
        this.types = types.clone();
        this.mergeable = HashMap.newHashMap(n);
        this.reserved = new HashMap<>();
        this.byteValues = new int[n];
        Arrays.fill(byteIds, -1);
        Arrays.fill(byteValues, -1);
        var userDefinedLists = new HashMap<Character, List<String>>();
        int unk = -1;
        int maxLen = 1;
        for (int id = 0; id < n; id++) {
            String p = this.pieces[id];
            PieceType t = this.types[id];
            if (p == null || t == null) {
                throw new IllegalArgumentException("piece " + id + " has no text or no type");
            }
            boolean isMergeable = t == PieceType.NORMAL || t == PieceType.USER_DEFINED || t == PieceType.UNUSED;
            Integer previous = (isMergeable ? mergeable : reserved).putIfAbsent(p, id);
            // Converters may write "" or placeholders for control pieces; only duplicate mergeable pieces matter.
            if (previous != null && isMergeable) {
                throw new IllegalArgumentException("piece '" + p + "' is defined twice (ids " + previous + " and " + id + ")");
            }
            if (isMergeable) {
                maxLen = Math.max(maxLen, p.length());
            }
            if (p.isEmpty() && isMergeable) {
                throw new IllegalArgumentException("piece " + id + " is empty");
            }
            switch (t) {
                case UNKNOWN -> {
                    if (unk < 0) {
                        unk = id;
                    }
                }
                case BYTE -> {
                    int b = parseBytePiece(p);
                    if (b < 0) {
                        throw new IllegalArgumentException("byte piece " + id + " is '" + p + "', expected <0xXX>");
                    }
                    byteIds[b] = id;
                    byteValues[id] = b;
                }
                case USER_DEFINED -> userDefinedLists.computeIfAbsent(p.charAt(0), c -> new ArrayList<>()).add(p);
                default -> {
                }
            }
        }
        if (unk < 0) {
            throw new IllegalArgumentException("vocabulary has no unknown piece");
        }
        this.unkId = unk;
        this.maxPieceLength = maxLen;
        this.userDefined = new HashMap<>();
        userDefinedLists.forEach((c, list) -> {
            list.sort(Comparator.comparingInt(String::length).reversed());
            userDefined.put(c, list.toArray(String[]::new));
        });
        this.byteFallback = options.byteFallback();
        this.addDummyPrefix = options.addDummyPrefix();
        this.removeExtraWhitespaces = options.removeExtraWhitespaces();
        this.escapeWhitespaces = options.escapeWhitespaces();
        this.bosId = options.bosId();
        this.eosId = options.eosId();
        this.unkSurface = options.unkSurface();
    }

    /** Returns the byte of a {@code <0xXX>} piece (two upper-case hex digits, as sentencepiece writes them), or -1. */
    static int parseBytePiece(String p) {
        if (p.length() != 6 || !p.startsWith("<0x") || p.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(p.charAt(3), 16);
        int lo = Character.digit(p.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    int size() {
        return pieces.length;
    }

    String piece(int id) {
        return pieces[id];
    }

    float score(int id) {
        return scores[id];
    }

    PieceType type(int id) {
        return types[id];
    }

    /** The byte a BYTE piece stands for, or -1 for other pieces. */
    int byteValue(int id) {
        return byteValues[id];
    }

    int unkId() {
        return unkId;
    }

    int bosId() {
        return bosId;
    }

    int eosId() {
        return eosId;
    }

    String unkSurface() {
        return unkSurface;
    }

    /** Whether decoding drops the space of the first piece (sentencepiece: add_dummy_prefix or remove_extra_whitespaces). */
    boolean stripsLeadingSpace() {
        return addDummyPrefix || removeExtraWhitespaces;
    }

    /** sentencepiece's PieceToId: reserved pieces first, then mergeable ones, else the unknown id. */
    int pieceToId(String piece) {
        Integer id = reserved.get(piece);
        if (id == null) {
            id = mergeable.get(piece);
        }
        return id == null ? unkId : id;
    }

    /** The normalized form: dummy prefix, spaces as U+2581, lone surrogates as U+FFFD. Empty stays empty. */
    String normalize(String text) {
        if (text.isEmpty()) {
            return "";
        }
        int from = 0;
        if (removeExtraWhitespaces) {
            while (from < text.length() && text.charAt(from) == ' ') {
                from++;
            }
            if (from == text.length()) {
                return "";
            }
        }
        var sb = new StringBuilder(text.length() + 1);
        char space = escapeWhitespaces ? SPACE_SYMBOL : ' ';
        if (addDummyPrefix) {
            sb.append(space);
        }
        boolean prevSpace = removeExtraWhitespaces;
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ' ') {
                if (!prevSpace) {
                    sb.append(space);
                }
                prevSpace = removeExtraWhitespaces;
                continue;
            }
            prevSpace = false;
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                sb.append(c).append(text.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                // Unpaired surrogates have no UTF-8 form; sentencepiece maps malformed input to U+FFFD.
                sb.append(Utf8.REPLACEMENT);
            } else {
                sb.append(c);
            }
        }
        if (removeExtraWhitespaces) {
            int end = sb.length();
            while (end > 0 && sb.charAt(end - 1) == space) {
                end--;
            }
            sb.setLength(end);
        }
        return sb.toString();
    }

    /** Encodes text to piece ids exactly as sentencepiece's {@code Encode} (no bos/eos). */
    int[] encode(String text) {
        String norm = normalize(text);
        if (norm.isEmpty()) {
            return new int[0];
        }
        return new Merger(norm).run();
    }

    private static final Comparator<Pair> AGENDA_ORDER = (a, b) -> {
        int c = Float.compare(b.score, a.score);
        return c != 0 ? c : Integer.compare(a.left, b.left);
    };

    /** A candidate merge of two adjacent symbols; stale once either side changed length. */
    private record Pair(int left, int right, float score, int length) {
    }

    /** One encode call's merge state: symbols are [start, end) ranges of the normalized text in a linked list. */
    private final class Merger {
        private final String norm;
        private final int[] start;
        private final int[] end;
        private final int[] prev;
        private final int[] next;
        private final boolean[] frozen;
        private final PriorityQueue<Pair> agenda = new PriorityQueue<>(AGENDA_ORDER);
        private Map<String, String[]> unusedParts;
        private int[] out;
        private int outSize;

        Merger(String norm) {
            this.norm = norm;
            int cap = norm.length();
            start = new int[cap];
            end = new int[cap];
            prev = new int[cap];
            next = new int[cap];
            frozen = new boolean[cap];
        }

        int[] run() {
            int count = split();
            for (int i = 1; i < count; i++) {
                addPair(i - 1, i);
            }
            while (!agenda.isEmpty()) {
                Pair top = agenda.poll();
                int l = top.left;
                int r = top.right;
                if (start[l] == end[l] || start[r] == end[r] || (end[l] - start[l]) + (end[r] - start[r]) != top.length) {
                    continue;
                }
                end[l] = end[r];
                start[r] = end[r];
                next[l] = next[r];
                if (next[r] >= 0) {
                    prev[next[r]] = l;
                }
                addPair(prev[l], l);
                addPair(l, next[l]);
            }
            out = new int[Math.max(16, count)];
            boolean prevUnknown = false;
            for (int s = 0; s >= 0; s = next[s]) {
                prevUnknown = emit(norm.substring(start[s], end[s]), prevUnknown);
            }
            return Arrays.copyOf(out, outSize);
        }

        /** Splits into single characters, except user-defined pieces, which are matched longest first and frozen. */
        private int split() {
            int count = 0;
            int i = 0;
            while (i < norm.length()) {
                int len = 0;
                String[] candidates = userDefined.isEmpty() ? null : userDefined.get(norm.charAt(i));
                if (candidates != null) {
                    for (String u : candidates) {
                        if (norm.startsWith(u, i)) {
                            len = u.length();
                            frozen[count] = true;
                            break;
                        }
                    }
                }
                if (len == 0) {
                    len = Character.charCount(norm.codePointAt(i));
                }
                start[count] = i;
                end[count] = i + len;
                prev[count] = count - 1;
                next[count] = i + len < norm.length() ? count + 1 : -1;
                count++;
                i += len;
            }
            return count;
        }

        private void addPair(int l, int r) {
            if (l < 0 || r < 0 || frozen[l] || frozen[r]) {
                return;
            }
            int length = end[r] - start[l];
            if (length > maxPieceLength) {
                return;
            }
            String merged = norm.substring(start[l], end[r]);
            Integer id = mergeable.get(merged);
            if (id == null) {
                return;
            }
            agenda.add(new Pair(l, r, scores[id], length));
            if (types[id] == PieceType.UNUSED) {
                if (unusedParts == null) {
                    unusedParts = new HashMap<>();
                }
                unusedParts.put(merged, new String[]{norm.substring(start[l], end[l]), norm.substring(start[r], end[r])});
            }
        }

        /** Appends the ids of one final symbol; returns whether it was unknown (for merging unknown runs). */
        private boolean emit(String symbol, boolean prevUnknown) {
            int id = pieceToId(symbol);
            if (types[id] == PieceType.UNUSED && unusedParts != null) {
                String[] parts = unusedParts.get(symbol);
                if (parts != null) {
                    boolean u = emit(parts[0], prevUnknown);
                    return emit(parts[1], u);
                }
            }
            boolean unknown = types[id] == PieceType.UNKNOWN;
            if (unknown && byteFallback) {
                for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                    int byteId = byteIds[b & 0xFF];
                    add(byteId >= 0 ? byteId : unkId);
                }
            } else if (!(unknown && prevUnknown)) {
                add(id);
            }
            return unknown;
        }

        private void add(int id) {
            if (outSize == out.length) {
                out = Arrays.copyOf(out, outSize * 2);
            }
            out[outSize++] = id;
        }
    }
}
