package io.github.chatglm4j.chat;

import java.math.BigDecimal;

/**
 * The few CPython string and number conventions the reference's output depends on. Public for the layers above
 * (the agent's observations, the server's text rendering), which strip the way the reference does.
 */
public final class PythonText {

    private PythonText() {
    }

    /**
     * Python's {@code str.isspace()} for one code point. Java's {@code Character.isWhitespace} differs from it
     * (for instance on U+00A0 and U+0085), and the reference strips replies with Python's notion.
     */
    public static boolean isSpace(int cp) {
        return switch (cp) {
            case '\t', '\n', 0x0B, '\f', '\r', 0x1C, 0x1D, 0x1E, 0x1F, ' ', 0x85, 0xA0, 0x1680,
                 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** Python's {@code s.strip()} with no argument. */
    public static String strip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && isSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    /** Python's {@code s.rstrip()} with no argument. */
    static String stripTrailing(String s) {
        int end = s.length();
        while (end > 0 && isSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }

    /**
     * How {@code json.dumps} writes a float used as a dict key: {@code repr(x)} for finite values (shortest
     * round-trip digits, exponent form below 1e-4 and from 1e16 on), else Infinity / -Infinity / NaN.
     */
    static String floatKey(double x) {
        if (Double.isNaN(x)) {
            return "NaN";
        }
        if (Double.isInfinite(x)) {
            return x > 0 ? "Infinity" : "-Infinity";
        }
        return floatRepr(x);
    }

    /** Python's {@code repr(float)} for a finite value. */
    static String floatRepr(double x) {
        String sign = (Double.doubleToRawLongBits(x) < 0) ? "-" : "";
        double a = Math.abs(x);
        if (a == 0) {
            return sign + "0.0";
        }
        // Java's Double.toString gives the shortest round-trip digits (JDK 19+), but never fewer than two
        // significant digits; Python allows one, which only matters for subnormals with wide gaps (5e-324).
        BigDecimal d = new BigDecimal(Double.toString(a)).stripTrailingZeros();
        d = shortenToOneDigit(d, a);
        String digits = d.unscaledValue().toString();
        int decpt = digits.length() - d.scale(); // value = 0.digits * 10^decpt
        StringBuilder sb = new StringBuilder(sign);
        if (decpt > -4 && decpt <= 16) {
            if (decpt <= 0) {
                sb.append("0.").repeat("0", -decpt).append(digits);
            } else if (decpt >= digits.length()) {
                sb.append(digits).repeat("0", decpt - digits.length()).append(".0");
            } else {
                sb.append(digits, 0, decpt).append('.').append(digits, decpt, digits.length());
            }
        } else {
            sb.append(digits.charAt(0));
            if (digits.length() > 1) {
                sb.append('.').append(digits, 1, digits.length());
            }
            int exp = decpt - 1;
            sb.append('e').append(exp < 0 ? '-' : '+');
            if (Math.abs(exp) < 10) {
                sb.append('0');
            }
            sb.append(Math.abs(exp));
        }
        return sb.toString();
    }

    private static BigDecimal shortenToOneDigit(BigDecimal d, double a) {
        if (d.precision() != 2) {
            return d;
        }
        int exp = d.precision() - d.scale() - 1; // power of ten of the leading digit
        int lead = d.unscaledValue().intValueExact() / 10;
        BigDecimal exact = new BigDecimal(a);
        BigDecimal best = null;
        for (int candidate : new int[] {lead, lead + 1}) {
            BigDecimal c = BigDecimal.valueOf(candidate).scaleByPowerOfTen(exp);
            if (c.doubleValue() != a) {
                continue;
            }
            // Python picks the round-trip candidate nearest the exact binary value.
            if (best == null || c.subtract(exact).abs().compareTo(best.subtract(exact).abs()) < 0) {
                best = c;
            }
        }
        return best == null ? d : best.stripTrailingZeros();
    }
}
