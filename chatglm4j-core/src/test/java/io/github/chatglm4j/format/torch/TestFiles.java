package io.github.chatglm4j.format.torch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Test inputs: the committed resources (see make_test_files.py) and stored ZIPs written by the JDK. */
final class TestFiles {
    private TestFiles() {
    }

    static Path resource(String name) {
        var url = TestFiles.class.getResource(name);
        if (url == null) {
            throw new IllegalStateException("missing test resource " + name + " (run make_test_files.py)");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A ZIP archive of stored (uncompressed) entries, in the given order, written by java.util.zip. */
    static byte[] storedZip(Map<String, byte[]> entries) {
        var bytes = new ByteArrayOutputStream();
        try (var zip = new ZipOutputStream(bytes)) {
            for (var item : entries.entrySet()) {
                var entry = new ZipEntry(item.getKey());
                var crc = new CRC32();
                crc.update(item.getValue());
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(item.getValue().length);
                entry.setCompressedSize(item.getValue().length);
                entry.setCrc(crc.getValue());
                zip.putNextEntry(entry);
                zip.write(item.getValue());
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
