package io.github.chatglm4j.server.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * The bytes a client sends, buffered, read against a deadline: every read sets the socket timeout to the time left,
 * so a client that trickles one byte at a time still runs out of time. Used by one thread at a time (the connection
 * thread for heads, the handler thread for its body).
 */
final class ConnectionInput {
    private final Socket socket;
    private final InputStream in;
    private final byte[] buf = new byte[16 << 10];
    private int pos;
    private int limit;
    private long deadline;
    private long consumed;

    ConnectionInput(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
    }

    /** Reads from now on must complete by {@code nanoTime} ({@link System#nanoTime()} clock). */
    void deadline(long nanoTime) {
        this.deadline = nanoTime;
    }

    /** Bytes taken out of the buffer so far (to tell an idle connection from a half-sent head). */
    long consumed() {
        return consumed;
    }

    /** The next byte without taking it, waiting for it if needed; -1 at the end of the stream. */
    int peek() throws IOException {
        if (pos == limit && fill() < 0) {
            return -1;
        }
        return buf[pos] & 0xff;
    }

    int read() throws IOException {
        if (pos == limit && fill() < 0) {
            return -1;
        }
        consumed++;
        return buf[pos++] & 0xff;
    }

    int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (pos == limit && fill() < 0) {
            return -1;
        }
        int n = Math.min(len, limit - pos);
        System.arraycopy(buf, pos, b, off, n);
        pos += n;
        consumed += n;
        return n;
    }

    /**
     * One line ending in CRLF, without it, as ISO-8859-1 (header bytes are octets). A bare CR or LF is refused: a
     * line end that another parser on the way (a proxy) could read differently is how requests get smuggled.
     *
     * @param max      longest line accepted
     * @param tooLong  the error for a longer line
     * @return the line, or null if the stream ends before its first byte
     */
    String readLine(int max, HttpError tooLong) throws IOException {
        var line = new StringBuilder(64);
        while (true) {
            int b = read();
            if (b < 0) {
                if (line.isEmpty()) {
                    return null;
                }
                throw HttpError.badRequest("The request ended in the middle of a line.");
            }
            if (b == '\r') {
                if (read() != '\n') {
                    throw HttpError.badRequest("A carriage return in the request head is not followed by a line feed.");
                }
                return line.toString();
            }
            if (b == '\n') {
                throw HttpError.badRequest("Lines of the request head must end with CRLF, not a bare line feed.");
            }
            if (line.length() >= max) {
                throw tooLong;
            }
            line.append((char) b);
        }
    }

    private int fill() throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("deadline passed");
        }
        socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000)));
        int n = in.read(buf, 0, buf.length);
        if (n < 0) {
            return -1;
        }
        pos = 0;
        limit = n;
        return n;
    }

    static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
