package io.github.chatglm4j.server.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;

/**
 * A request body as its framing says: exactly {@code Content-Length} bytes, or chunks up to the last one (trailers
 * read and dropped). The whole body must arrive before its deadline (408 otherwise); a malformed chunk is a 400.
 */
final class RequestBody extends InputStream {
    /** Hex digits of a chunk size: 15 keep it a positive long. */
    private static final int MAX_CHUNK_SIZE_DIGITS = 15;
    /** Chunk-size lines (with extensions) and trailers are short; anything longer is refused. */
    private static final int MAX_CHUNK_LINE = 4096;
    private static final int MAX_TRAILER_BYTES = 8192;

    private final ConnectionInput in;
    private final boolean chunked;
    private final long declared;
    private final long deadline;
    private final String timeoutMessage;
    private final Runnable beforeFirstRead;
    private long remaining;
    private long received;
    private boolean started;
    private boolean done;
    private boolean lastChunk;

    /**
     * @param length          the Content-Length, or -1 for a chunked body
     * @param beforeFirstRead sends {@code 100 Continue} to a client that asked for it
     */
    RequestBody(ConnectionInput in, long length, long deadline, String timeoutMessage, Runnable beforeFirstRead) {
        this.in = in;
        this.chunked = length < 0;
        this.declared = length;
        this.remaining = chunked ? 0 : length;
        this.deadline = deadline;
        this.timeoutMessage = timeoutMessage;
        this.beforeFirstRead = beforeFirstRead;
        this.done = length == 0;
        this.started = length == 0;
    }

    /** The Content-Length, or -1 for a chunked body. */
    long declaredLength() {
        return declared;
    }

    /** Whether the body was read to its end (so the connection can carry another request). */
    boolean done() {
        return done;
    }

    /** Whether anything was asked of the client yet (after a {@code 100 Continue} it sends the body). */
    boolean started() {
        return started;
    }

    long received() {
        return received;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (done) {
            return -1;
        }
        if (len == 0) {
            return 0;
        }
        if (!started) {
            started = true;
            beforeFirstRead.run();
        }
        in.deadline(deadline);
        try {
            if (chunked && remaining == 0) {
                nextChunk();
                if (done) {
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, remaining));
            if (n < 0) {
                throw HttpError.badRequest("The request body ended after " + received + " bytes"
                        + (chunked ? ", inside a chunk." : " of the " + declared + " its Content-Length announced."));
            }
            remaining -= n;
            received += n;
            if (remaining == 0) {
                if (chunked) {
                    expectCrlf();
                } else {
                    done = true;
                }
            }
            return n;
        } catch (SocketTimeoutException e) {
            throw new HttpError(408, timeoutMessage + " (" + received + " bytes arrived).", "request_timeout");
        }
    }

    /** Reads and drops up to {@code max} bytes; true if the body ended within them. */
    boolean discard(long max) throws IOException {
        byte[] sink = new byte[16 << 10];
        long dropped = 0;
        while (!done && dropped < max) {
            int n = read(sink, 0, (int) Math.min(sink.length, max - dropped));
            if (n < 0) {
                break;
            }
            dropped += n;
        }
        return done;
    }

    private void nextChunk() throws IOException {
        if (lastChunk) {
            done = true;
            return;
        }
        HttpError tooLong = HttpError.badRequest("A chunk-size line is longer than " + MAX_CHUNK_LINE + " bytes.");
        String line = in.readLine(MAX_CHUNK_LINE, tooLong);
        if (line == null) {
            throw HttpError.badRequest("The chunked request body ended before its last chunk.");
        }
        int end = 0;
        while (end < line.length() && Character.digit(line.charAt(end), 16) >= 0) {
            end++;
        }
        String rest = line.substring(end).stripLeading();
        if (end == 0 || end > MAX_CHUNK_SIZE_DIGITS || !(rest.isEmpty() || rest.startsWith(";"))) {
            throw HttpError.badRequest("A chunk size is not a hexadecimal number of at most " + MAX_CHUNK_SIZE_DIGITS + " digits.");
        }
        long size = Long.parseLong(line.substring(0, end), 16);
        if (size == 0) {
            lastChunk = true;
            int budget = MAX_TRAILER_BYTES;
            while (true) {
                String trailer = in.readLine(budget, HttpError.badRequest("The trailer fields are longer than " + MAX_TRAILER_BYTES + " bytes."));
                if (trailer == null) {
                    throw HttpError.badRequest("The chunked request body ended inside its trailer.");
                }
                if (trailer.isEmpty()) {
                    break;
                }
                budget -= trailer.length() + 2;
                if (budget <= 0) {
                    throw HttpError.badRequest("The trailer fields are longer than " + MAX_TRAILER_BYTES + " bytes.");
                }
            }
            done = true;
            return;
        }
        remaining = size;
    }

    private void expectCrlf() throws IOException {
        if (in.read() != '\r' || in.read() != '\n') {
            throw HttpError.badRequest("A chunk's data is not followed by CRLF (its size is wrong).");
        }
    }
}
