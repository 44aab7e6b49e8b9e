package io.github.chatglm4j.format.torch;

import io.github.chatglm4j.format.ModelFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An interpreter for the subset of the pickle language that {@code torch.save} uses for a state dict. It never
 * imports or calls anything: Python containers become plain Java values ({@link LinkedHashMap} for dicts,
 * {@link ArrayList} for lists, {@link PickleTuple}, {@link String}, {@link Long}, {@link Double}, {@link Boolean},
 * {@code null} for None), and the only opcodes that would run code (GLOBAL, REDUCE, BUILD, BINPERSID) are handed
 * to a {@link Resolver}, which either answers with a plain value or refuses. Any other opcode is refused.
 */
final class PickleMachine {

    /** Gives meaning to the opcodes that, in Python, import or call something. Refusal is a {@link PickleException}. */
    interface Resolver {
        /** GLOBAL / STACK_GLOBAL: a marker value for an allowed {@code module.name}. */
        Object global(String module, String name);

        /** REDUCE: the value of {@code callable(*args)} for a marker returned by {@link #global}. */
        Object reduce(Object callable, PickleTuple args);

        /** BINPERSID: the object a persistent id stands for. */
        Object persistentLoad(Object pid);

        /** BUILD: apply {@code state} to {@code target} (in practice: check that it may be ignored). */
        void build(Object target, Object state);
    }

    private static final int HIGHEST_PROTOCOL = 5;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_BIG = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final MemorySegment pickle;
    private final Resolver resolver;
    private final List<Object> stack = new ArrayList<>();
    /** Stack heights at each open MARK; nothing below the innermost one may be popped until it is closed. */
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private long position;

    private PickleMachine(MemorySegment pickle, Resolver resolver) {
        this.pickle = pickle;
        this.resolver = resolver;
    }

    /**
     * Runs the pickle in {@code pickle} up to its STOP opcode and returns the single value it leaves.
     * {@code file} and {@code entry} only name the stream in error messages.
     */
    static Object load(MemorySegment pickle, Resolver resolver, Path file, String entry) {
        var machine = new PickleMachine(pickle, resolver);
        long opcodeAt = 0;
        try {
            while (true) {
                opcodeAt = machine.position;
                if (machine.step()) {
                    return machine.finish();
                }
            }
        } catch (PickleException e) {
            throw new ModelFormatException(file, entry + ", byte " + opcodeAt + ": " + e.getMessage());
        }
    }

    /** Executes one opcode; true on STOP. */
    private boolean step() {
        int opcode = u8();
        switch (opcode) {
            case 0x80 -> { // PROTO
                int protocol = u8();
                if (protocol > HIGHEST_PROTOCOL) {
                    throw new PickleException("unsupported pickle protocol " + protocol);
                }
            }
            case 0x95 -> readLong(); // FRAME: a buffering hint of protocol 4+, the framed opcodes follow inline
            case '(' -> marks.add(stack.size()); // MARK
            case '.' -> { // STOP
                return true;
            }
            case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
            case ']' -> push(new ArrayList<>()); // EMPTY_LIST
            case ')' -> push(new PickleTuple(List.of())); // EMPTY_TUPLE
            case 'N' -> push(null); // NONE
            case 0x88 -> push(Boolean.TRUE); // NEWTRUE
            case 0x89 -> push(Boolean.FALSE); // NEWFALSE
            case 'K' -> push((long) u8()); // BININT1
            case 'M' -> push((long) u16()); // BININT2
            case 'J' -> push((long) i32()); // BININT
            case 0x8a -> push(long1()); // LONG1
            case 'G' -> push(f64BigEndian()); // BINFLOAT
            case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
            case 'X' -> push(utf8(Integer.toUnsignedLong(i32()))); // BINUNICODE
            case 0x8d -> push(utf8(readLong())); // BINUNICODE8
            case 'q' -> memo.put((long) u8(), peek()); // BINPUT
            case 'r' -> memo.put(Integer.toUnsignedLong(i32()), peek()); // LONG_BINPUT
            case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
            case 'h' -> push(memoGet(u8())); // BINGET
            case 'j' -> push(memoGet(Integer.toUnsignedLong(i32()))); // LONG_BINGET
            case 't' -> push(new PickleTuple(popMark())); // TUPLE
            case 0x85 -> push(tuple(1)); // TUPLE1
            case 0x86 -> push(tuple(2)); // TUPLE2
            case 0x87 -> push(tuple(3)); // TUPLE3
            case 'a' -> { // APPEND
                Object item = pop();
                list(peek()).add(item);
            }
            case 'e' -> { // APPENDS
                List<Object> items = popMark();
                list(peek()).addAll(items);
            }
            case 's' -> { // SETITEM
                Object value = pop();
                Object key = pop();
                dict(peek()).put(key(key), value);
            }
            case 'u' -> { // SETITEMS
                List<Object> items = popMark();
                if (items.size() % 2 != 0) {
                    throw new PickleException("SETITEMS with an odd number (" + items.size() + ") of keys and values");
                }
                var dict = dict(peek());
                for (int i = 0; i < items.size(); i += 2) {
                    dict.put(key(items.get(i)), items.get(i + 1));
                }
            }
            case 'c' -> { // GLOBAL
                String module = line();
                String name = line();
                push(resolver.global(module, name));
            }
            case 0x93 -> { // STACK_GLOBAL: GLOBAL with both names taken from the stack (protocol 4+)
                Object name = pop();
                Object module = pop();
                if (!(module instanceof String m) || !(name instanceof String n)) {
                    throw new PickleException("STACK_GLOBAL needs two strings, got " + typeName(module) + " and "
                            + typeName(name));
                }
                push(resolver.global(m, n));
            }
            case 'R' -> { // REDUCE
                Object args = pop();
                Object callable = pop();
                if (!(args instanceof PickleTuple tuple)) {
                    throw new PickleException("REDUCE needs an argument tuple, got " + typeName(args));
                }
                push(resolver.reduce(callable, tuple));
            }
            case 'Q' -> push(resolver.persistentLoad(pop())); // BINPERSID
            case 'b' -> { // BUILD
                Object state = pop();
                resolver.build(peek(), state);
            }
            default -> throw new PickleException("unsupported pickle opcode " + opcodeName(opcode)
                    + "; only the opcodes torch.save writes for a state dict are accepted");
        }
        return false;
    }

    private Object finish() {
        if (!marks.isEmpty()) {
            throw new PickleException("STOP with an unclosed MARK");
        }
        if (stack.size() != 1) {
            throw new PickleException("STOP with " + stack.size() + " values on the stack instead of one");
        }
        return stack.getFirst();
    }

    // ---- stack ----

    private void push(Object value) {
        stack.add(value);
    }

    private int fence() {
        return marks.isEmpty() ? 0 : marks.getLast();
    }

    private Object pop() {
        if (stack.size() <= fence()) {
            throw new PickleException("stack underflow");
        }
        return stack.removeLast();
    }

    private Object peek() {
        if (stack.size() <= fence()) {
            throw new PickleException("stack underflow");
        }
        return stack.getLast();
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw new PickleException("no MARK to pop back to");
        }
        int from = marks.removeLast();
        var view = stack.subList(from, stack.size());
        var items = new ArrayList<>(view);
        view.clear();
        return items;
    }

    private PickleTuple tuple(int n) {
        var items = new Object[n];
        for (int i = n - 1; i >= 0; i--) {
            items[i] = pop();
        }
        return PickleTuple.of(items);
    }

    private Object memoGet(long index) {
        if (!memo.containsKey(index)) {
            throw new PickleException("memo index " + index + " read before it was written");
        }
        return memo.get(index);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object target) {
        if (target instanceof ArrayList<?> list) {
            return (List<Object>) list;
        }
        throw new PickleException("APPEND to a " + typeName(target) + " instead of a list");
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> dict(Object target) {
        if (target instanceof LinkedHashMap<?, ?> dict) {
            return (Map<Object, Object>) dict;
        }
        throw new PickleException("SETITEM on a " + typeName(target) + " instead of a dict");
    }

    /** Only scalars may be keys: hashing nested (possibly self-referencing) containers is never needed. */
    private static Object key(Object key) {
        if (key == null || key instanceof String || key instanceof Long || key instanceof Double
                || key instanceof Boolean) {
            return key;
        }
        throw new PickleException("unsupported dict key of type " + typeName(key));
    }

    static String typeName(Object value) {
        return switch (value) {
            case null -> "None";
            case String _ -> "str";
            case Long _ -> "int";
            case Double _ -> "float";
            case Boolean _ -> "bool";
            case LinkedHashMap<?, ?> _ -> "dict";
            case ArrayList<?> _ -> "list";
            case PickleTuple t -> "tuple of " + t.size();
            default -> value.toString();
        };
    }

    // ---- reading the stream ----

    private void need(long bytes) {
        if (bytes < 0 || bytes > pickle.byteSize() - position) {
            throw new PickleException("the pickle ends inside an opcode's argument (wanted " + Long.toUnsignedString(bytes)
                    + " more bytes, " + (pickle.byteSize() - position) + " left): the file is truncated or corrupt");
        }
    }

    private int u8() {
        if (position >= pickle.byteSize()) {
            throw new PickleException("the pickle ends unexpectedly, before its STOP opcode: the file is truncated or corrupt");
        }
        return Byte.toUnsignedInt(pickle.get(ValueLayout.JAVA_BYTE, position++));
    }

    private int u16() {
        need(2);
        int value = Short.toUnsignedInt(pickle.get(U16, position));
        position += 2;
        return value;
    }

    private int i32() {
        need(4);
        int value = pickle.get(I32, position);
        position += 4;
        return value;
    }

    private long readLong() {
        need(8);
        long value = pickle.get(I64, position);
        position += 8;
        return value;
    }

    private double f64BigEndian() {
        need(8);
        double value = pickle.get(F64_BIG, position);
        position += 8;
        return value;
    }

    /** LONG1: a little-endian two's-complement integer of n bytes; a state dict never needs more than 64 bits. */
    private long long1() {
        int n = u8();
        if (n > 8) {
            throw new PickleException("LONG1 integer of " + n + " bytes does not fit in 64 bits");
        }
        need(n);
        long value = 0;
        for (int i = 0; i < n; i++) {
            value |= (long) Byte.toUnsignedInt(pickle.get(ValueLayout.JAVA_BYTE, position + i)) << (8 * i);
        }
        if (n > 0 && n < 8) {
            int unused = 64 - 8 * n;
            value = value << unused >> unused; // sign-extend
        }
        position += n;
        return value;
    }

    private String utf8(long length) {
        need(length);
        if (length > Integer.MAX_VALUE - 16) {
            throw new PickleException("string of " + length + " bytes is too long");
        }
        ByteBuffer bytes = pickle.asSlice(position, length).asByteBuffer();
        position += length;
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new PickleException("string is not valid UTF-8");
        }
    }

    /** The newline-terminated ASCII argument of GLOBAL. */
    private String line() {
        long start = position;
        long limit = Math.min(pickle.byteSize(), start + 1024);
        for (long at = start; at < limit; at++) {
            byte b = pickle.get(ValueLayout.JAVA_BYTE, at);
            if (b == '\n') {
                var bytes = pickle.asSlice(start, at - start).toArray(ValueLayout.JAVA_BYTE);
                for (byte c : bytes) {
                    if (c < 0x20 || c > 0x7e) {
                        throw new PickleException("GLOBAL name is not printable ASCII");
                    }
                }
                position = at + 1;
                return new String(bytes, StandardCharsets.US_ASCII);
            }
        }
        throw new PickleException(limit == pickle.byteSize()
                ? "the pickle ends inside a GLOBAL name: the file is truncated or corrupt"
                : "GLOBAL name longer than 1024 bytes");
    }

    private static String opcodeName(int opcode) {
        String name = OPCODE_NAMES.get(opcode);
        String hex = String.format("0x%02x", opcode);
        return name == null ? hex + " (not a pickle opcode)" : name + " (" + hex + ")";
    }

    /** Every opcode of pickle protocols 0-5, so that a refusal can say which one was met. */
    private static final Map<Integer, String> OPCODE_NAMES = Map.ofEntries(
            Map.entry((int) '(', "MARK"), Map.entry((int) '.', "STOP"), Map.entry((int) '0', "POP"),
            Map.entry((int) '1', "POP_MARK"), Map.entry((int) '2', "DUP"), Map.entry((int) 'F', "FLOAT"),
            Map.entry((int) 'I', "INT"), Map.entry((int) 'J', "BININT"), Map.entry((int) 'K', "BININT1"),
            Map.entry((int) 'L', "LONG"), Map.entry((int) 'M', "BININT2"), Map.entry((int) 'N', "NONE"),
            Map.entry((int) 'P', "PERSID"), Map.entry((int) 'Q', "BINPERSID"), Map.entry((int) 'R', "REDUCE"),
            Map.entry((int) 'S', "STRING"), Map.entry((int) 'T', "BINSTRING"),
            Map.entry((int) 'U', "SHORT_BINSTRING"), Map.entry((int) 'V', "UNICODE"),
            Map.entry((int) 'X', "BINUNICODE"), Map.entry((int) 'a', "APPEND"), Map.entry((int) 'b', "BUILD"),
            Map.entry((int) 'c', "GLOBAL"), Map.entry((int) 'd', "DICT"), Map.entry((int) '}', "EMPTY_DICT"),
            Map.entry((int) 'e', "APPENDS"), Map.entry((int) 'g', "GET"), Map.entry((int) 'h', "BINGET"),
            Map.entry((int) 'i', "INST"), Map.entry((int) 'j', "LONG_BINGET"), Map.entry((int) 'l', "LIST"),
            Map.entry((int) ']', "EMPTY_LIST"), Map.entry((int) 'o', "OBJ"), Map.entry((int) 'p', "PUT"),
            Map.entry((int) 'q', "BINPUT"), Map.entry((int) 'r', "LONG_BINPUT"), Map.entry((int) 's', "SETITEM"),
            Map.entry((int) 't', "TUPLE"), Map.entry((int) ')', "EMPTY_TUPLE"), Map.entry((int) 'u', "SETITEMS"),
            Map.entry((int) 'G', "BINFLOAT"), Map.entry(0x80, "PROTO"), Map.entry(0x81, "NEWOBJ"),
            Map.entry(0x82, "EXT1"), Map.entry(0x83, "EXT2"), Map.entry(0x84, "EXT4"), Map.entry(0x85, "TUPLE1"),
            Map.entry(0x86, "TUPLE2"), Map.entry(0x87, "TUPLE3"), Map.entry(0x88, "NEWTRUE"),
            Map.entry(0x89, "NEWFALSE"), Map.entry(0x8a, "LONG1"), Map.entry(0x8b, "LONG4"),
            Map.entry((int) 'B', "BINBYTES"), Map.entry((int) 'C', "SHORT_BINBYTES"),
            Map.entry(0x8c, "SHORT_BINUNICODE"), Map.entry(0x8d, "BINUNICODE8"), Map.entry(0x8e, "BINBYTES8"),
            Map.entry(0x8f, "EMPTY_SET"), Map.entry(0x90, "ADDITEMS"), Map.entry(0x91, "FROZENSET"),
            Map.entry(0x92, "NEWOBJ_EX"), Map.entry(0x93, "STACK_GLOBAL"), Map.entry(0x94, "MEMOIZE"),
            Map.entry(0x95, "FRAME"), Map.entry(0x96, "BYTEARRAY8"), Map.entry(0x97, "NEXT_BUFFER"),
            Map.entry(0x98, "READONLY_BUFFER"));
}
