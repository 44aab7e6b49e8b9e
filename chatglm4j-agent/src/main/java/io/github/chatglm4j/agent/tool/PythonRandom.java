package io.github.chatglm4j.agent.tool;

import java.math.BigInteger;

/**
 * CPython's {@code random.Random(seed).randint(a, b)} for integer seeds, bit for bit: the Mersenne Twister (MT19937)
 * seeded by {@code init_by_array} with the seed's absolute value in 32-bit words, and {@code randint} as
 * {@code a + _randbelow(b - a + 1)}, which draws {@code getrandbits(k)} until the value is below the width. The
 * reference's random_number_generator tool is exactly this call, so the same seed gives the model the same number.
 */
final class PythonRandom {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;

    private final int[] mt = new int[N];
    private int mti = N + 1;

    private PythonRandom(BigInteger seed) {
        initByArray(words(seed.abs()));
    }

    /** {@code random.Random(seed).randint(a, b)}; throws IllegalArgumentException when b < a, as Python's ValueError. */
    static BigInteger randint(BigInteger seed, BigInteger a, BigInteger b) {
        BigInteger width = b.subtract(a).add(BigInteger.ONE);
        if (width.signum() <= 0) {
            throw new IllegalArgumentException("empty range for randrange() (" + a + ", " + b.add(BigInteger.ONE) + ", " + width + ")");
        }
        return a.add(new PythonRandom(seed).below(width));
    }

    /** The key CPython builds from an int seed: its 32-bit words, least significant first ([0] for zero). */
    private static int[] words(BigInteger n) {
        int count = Math.max(1, (n.bitLength() + 31) / 32);
        int[] key = new int[count];
        for (int i = 0; i < count; i++) {
            key[i] = n.shiftRight(32 * i).intValue();
        }
        return key;
    }

    private BigInteger below(BigInteger n) {
        int k = n.bitLength();
        BigInteger r = bits(k);
        while (r.compareTo(n) >= 0) {
            r = bits(k);
        }
        return r;
    }

    /** {@code getrandbits(k)}: 32-bit draws fill the number from the least significant word; the last is cut to size. */
    private BigInteger bits(int k) {
        if (k <= 32) {
            return BigInteger.valueOf(Integer.toUnsignedLong(next()) >>> (32 - k));
        }
        BigInteger r = BigInteger.ZERO;
        for (int i = 0; k > 0; i++, k -= 32) {
            long w = Integer.toUnsignedLong(next());
            if (k < 32) {
                w >>>= 32 - k;
            }
            r = r.or(BigInteger.valueOf(w).shiftLeft(32 * i));
        }
        return r;
    }

    private void initGenrand(int s) {
        mt[0] = s;
        for (mti = 1; mti < N; mti++) {
            mt[mti] = 1812433253 * (mt[mti - 1] ^ (mt[mti - 1] >>> 30)) + mti;
        }
    }

    private void initByArray(int[] key) {
        initGenrand(19650218);
        int i = 1;
        int j = 0;
        for (int k = Math.max(N, key.length); k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + key[j] + j;
            i++;
            j++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if (j >= key.length) {
                j = 0;
            }
        }
        for (int k = N - 1; k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
            i++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = UPPER_MASK; // non-zero initial array
    }

    private int next() {
        if (mti >= N) {
            int kk;
            for (kk = 0; kk < N - M; kk++) {
                int y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
                mt[kk] = mt[kk + M] ^ (y >>> 1) ^ ((y & 1) == 0 ? 0 : MATRIX_A);
            }
            for (; kk < N - 1; kk++) {
                int y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
                mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ ((y & 1) == 0 ? 0 : MATRIX_A);
            }
            int y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
            mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ ((y & 1) == 0 ? 0 : MATRIX_A);
            mti = 0;
        }
        int y = mt[mti++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }
}
