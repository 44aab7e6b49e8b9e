package io.github.chatglm4j.server.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A streamed response body in HTTP/1.1 chunks: what is written is buffered, and every {@link #flush()} sends it as one
 * chunk at once (an SSE event reaches the client when the handler flushes it). {@link #close()} ends the body.
 */
final class ChunkedOutput extends OutputStream {
    private final OutputStream out;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private boolean closed;

    ChunkedOutput(OutputStream out) {
        this.out = out;
    }

    @Override
    public void write(int b) throws IOException {
        checkOpen();
        pending.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        checkOpen();
        pending.write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
        checkOpen();
        if (pending.size() > 0) {
            out.write((Integer.toHexString(pending.size()) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            pending.writeTo(out);
            out.write(CRLF);
            pending.reset();
        }
        out.flush();
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        flush();
        closed = true;
        out.write(LAST);
        out.flush();
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw new IOException("the response body is already complete");
        }
    }

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] LAST = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
}
