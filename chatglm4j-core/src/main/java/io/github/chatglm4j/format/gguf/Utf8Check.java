package io.github.chatglm4j.format.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Well-formed UTF-8 as Unicode defines it (no overlong forms, no surrogates, nothing above U+10FFFF). */
final class Utf8Check {
    private Utf8Check() {
    }

    /** The position of the first byte of the first ill-formed sequence in {@code [from, to)}, or -1. */
    static long firstInvalid(MemorySegment seg, long from, long to) {
        long i = from;
        while (i < to) {
            int b0 = byteAt(seg, i);
            if (b0 < 0x80) {
                i++;
                continue;
            }
            int len;
            int lo = 0x80;
            int hi = 0xBF;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                len = 2;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                len = 3;
                if (b0 == 0xE0) {
                    lo = 0xA0; // overlong below U+0800
                } else if (b0 == 0xED) {
                    hi = 0x9F; // surrogates U+D800..U+DFFF
                }
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                len = 4;
                if (b0 == 0xF0) {
                    lo = 0x90; // overlong below U+10000
                } else if (b0 == 0xF4) {
                    hi = 0x8F; // above U+10FFFF
                }
            } else {
                return i;
            }
            if (to - i < len) {
                return i;
            }
            int b1 = byteAt(seg, i + 1);
            if (b1 < lo || b1 > hi) {
                return i;
            }
            for (int k = 2; k < len; k++) {
                int b = byteAt(seg, i + k);
                if (b < 0x80 || b > 0xBF) {
                    return i;
                }
            }
            i += len;
        }
        return -1;
    }

    private static int byteAt(MemorySegment seg, long i) {
        return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, i));
    }
}
