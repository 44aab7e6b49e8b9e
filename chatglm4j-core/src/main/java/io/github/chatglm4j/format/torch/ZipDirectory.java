package io.github.chatglm4j.format.torch;

import io.github.chatglm4j.format.ModelFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The central directory of a ZIP archive held in memory (normally a file mapping), read without inflating or
 * copying anything: each entry is located by its data offset and size so that callers can slice the mapping.
 * Only what {@code torch.save} produces is supported: a single-disk archive, stored (uncompressed), unencrypted
 * entries, with or without Zip64 records. Every offset read from the file is checked against the mapping before
 * it is used, so a truncated or corrupt file ends in a {@link ModelFormatException}, never in a read outside it.
 */
final class ZipDirectory {

    /** One stored entry: its bytes are {@code [dataOffset, dataOffset + size)} of the archive. */
    record Entry(String name, long dataOffset, long size, int crc32) {
    }

    private static final int EOCD_SIGNATURE = 0x06054b50;
    private static final int EOCD_SIZE = 22;
    private static final int ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
    private static final int ZIP64_LOCATOR_SIZE = 20;
    private static final int ZIP64_EOCD_SIGNATURE = 0x06064b50;
    private static final int ZIP64_EOCD_SIZE = 56;
    private static final int CENTRAL_SIGNATURE = 0x02014b50;
    private static final int CENTRAL_SIZE = 46;
    private static final int LOCAL_SIGNATURE = 0x04034b50;
    private static final int LOCAL_SIZE = 30;
    private static final int ZIP64_EXTRA_ID = 0x0001;
    private static final long U16_MAX = 0xFFFF;
    private static final long U32_MAX = 0xFFFF_FFFFL;
    private static final int FLAG_ENCRYPTED = 0x1;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Map<String, Entry> entries;

    private ZipDirectory(Map<String, Entry> entries) {
        this.entries = Collections.unmodifiableMap(entries);
    }

    /** Reads the directory of the archive {@code zip}; {@code file} only names it in error messages. */
    static ZipDirectory read(MemorySegment zip, Path file) {
        return new Reader(zip, file).read();
    }

    /** All entries in central-directory order. */
    List<Entry> entries() {
        return List.copyOf(entries.values());
    }

    Optional<Entry> entry(String name) {
        return Optional.ofNullable(entries.get(name));
    }

    /** True if {@code [offset, offset + length)} lies within {@code [0, limit)}, without overflowing. */
    static boolean fits(long offset, long length, long limit) {
        return offset >= 0 && length >= 0 && offset <= limit && length <= limit - offset;
    }

    private static final class Reader {
        private final MemorySegment zip;
        private final Path file;
        private final long size;

        Reader(MemorySegment zip, Path file) {
            this.zip = zip;
            this.file = file;
            this.size = zip.byteSize();
        }

        ZipDirectory read() {
            long eocd = findEndOfCentralDirectory();
            int disk = u16(eocd + 4);
            int directoryDisk = u16(eocd + 6);
            long count = u16(eocd + 10);
            long directorySize = u32(eocd + 12);
            long directoryOffset = u32(eocd + 16);
            if (disk != 0 || directoryDisk != 0) {
                throw fail("multi-disk (split) ZIP archives are not supported");
            }
            long locator = eocd - ZIP64_LOCATOR_SIZE;
            if (locator >= 0 && u32(locator) == ZIP64_LOCATOR_SIGNATURE) {
                long record = u64(locator + 8);
                if (!fits(record, ZIP64_EOCD_SIZE, locator)) {
                    throw fail("Zip64 end of central directory record at offset " + Long.toUnsignedString(record)
                            + " lies outside the file (" + size + " bytes): the file is truncated or corrupt");
                }
                if (u32(record) != ZIP64_EOCD_SIGNATURE) {
                    throw fail("no Zip64 end of central directory record at offset " + record + " (bad signature)");
                }
                if (u32(record + 16) != 0 || u32(record + 20) != 0) {
                    throw fail("multi-disk (split) ZIP archives are not supported");
                }
                count = u64(record + 32);
                directorySize = u64(record + 40);
                directoryOffset = u64(record + 48);
            } else if (count == U16_MAX || directorySize == U32_MAX || directoryOffset == U32_MAX) {
                throw fail("the ZIP end of central directory record needs Zip64 values, but there is no Zip64 locator"
                        + " before it: the file is truncated or corrupt");
            }
            if (!fits(directoryOffset, directorySize, eocd)) {
                throw fail("central directory (offset " + Long.toUnsignedString(directoryOffset) + ", "
                        + Long.toUnsignedString(directorySize) + " bytes) lies outside the file (" + size
                        + " bytes): the file is truncated or corrupt");
            }
            // Each record takes at least CENTRAL_SIZE bytes: this bounds the count before anything is allocated.
            if (count < 0 || count > directorySize / CENTRAL_SIZE) {
                throw fail("central directory claims " + Long.toUnsignedString(count) + " entries in "
                        + directorySize + " bytes: the file is corrupt");
            }
            return new ZipDirectory(readCentralDirectory(directoryOffset, directoryOffset + directorySize, count));
        }

        /** The record is at the end, followed only by its comment; scanning back covers a comment of any length. */
        private long findEndOfCentralDirectory() {
            if (size < EOCD_SIZE) {
                throw fail("too short to be a ZIP archive (" + size + " bytes): the file is truncated or is not"
                        + " a PyTorch checkpoint");
            }
            long lowest = Math.max(0, size - EOCD_SIZE - U16_MAX);
            for (long at = size - EOCD_SIZE; at >= lowest; at--) {
                if (u32(at) == EOCD_SIGNATURE && at + EOCD_SIZE + u16(at + 20) == size) {
                    return at;
                }
            }
            throw fail("no ZIP end of central directory record: the file is truncated or is not a ZIP archive");
        }

        private Map<String, Entry> readCentralDirectory(long start, long end, long count) {
            var result = new LinkedHashMap<String, Entry>();
            long at = start;
            for (long i = 0; i < count; i++) {
                if (!fits(at, CENTRAL_SIZE, end) || u32(at) != CENTRAL_SIGNATURE) {
                    throw fail("central directory record " + i + " at offset " + at + " is missing or damaged:"
                            + " the file is corrupt");
                }
                int flags = u16(at + 8);
                int method = u16(at + 10);
                int crc = zip.get(U32, at + 16);
                long compressedSize = u32(at + 20);
                long uncompressedSize = u32(at + 24);
                int nameLength = u16(at + 28);
                int extraLength = u16(at + 30);
                int commentLength = u16(at + 32);
                long diskStart = u16(at + 34);
                long localOffset = u32(at + 42);
                long next = at + CENTRAL_SIZE + nameLength + extraLength + commentLength;
                if (next > end) {
                    throw fail("central directory record " + i + " at offset " + at + " runs past the end of the"
                            + " directory: the file is corrupt");
                }
                String name = string(at + CENTRAL_SIZE, nameLength);

                // Zip64 extra: 8-byte values present only for the fields saturated in the fixed record, in this order.
                long extra = findExtra(at + CENTRAL_SIZE + nameLength, extraLength, ZIP64_EXTRA_ID, name);
                long extraEnd = extra < 0 ? -1 : extra + 4 + u16(extra + 2);
                long field = extra + 4;
                if (uncompressedSize == U32_MAX) {
                    uncompressedSize = zip64Field(field, extraEnd, name);
                    field += 8;
                }
                if (compressedSize == U32_MAX) {
                    compressedSize = zip64Field(field, extraEnd, name);
                    field += 8;
                }
                if (localOffset == U32_MAX) {
                    localOffset = zip64Field(field, extraEnd, name);
                    field += 8;
                }
                if (diskStart == U16_MAX) {
                    if (extraEnd < 0 || field + 4 > extraEnd) {
                        throw fail("entry '" + name + "' lacks the Zip64 extra field its directory record requires");
                    }
                    diskStart = u32(field);
                }

                if (diskStart != 0) {
                    throw fail("entry '" + name + "' starts on disk " + diskStart
                            + ": multi-disk (split) ZIP archives are not supported");
                }
                if ((flags & FLAG_ENCRYPTED) != 0) {
                    throw fail("entry '" + name + "' is encrypted, which is not supported");
                }
                if (method != 0) {
                    throw fail("entry '" + name + "' is compressed (ZIP method " + method + ", "
                            + methodName(method) + "); only stored (uncompressed) entries can be memory-mapped:"
                            + " re-save the checkpoint with torch.save");
                }
                if (compressedSize != uncompressedSize) {
                    throw fail("stored entry '" + name + "' has compressed size " + Long.toUnsignedString(compressedSize)
                            + " but uncompressed size " + Long.toUnsignedString(uncompressedSize)
                            + ": the file is corrupt");
                }
                long dataOffset = dataOffset(name, localOffset, start);
                if (!fits(dataOffset, uncompressedSize, start)) {
                    throw fail("entry '" + name + "' (" + Long.toUnsignedString(uncompressedSize) + " bytes at offset "
                            + dataOffset + ") extends past the start of the central directory at offset " + start
                            + ": the file is truncated or corrupt");
                }
                if (result.putIfAbsent(name, new Entry(name, dataOffset, uncompressedSize, crc)) != null) {
                    throw fail("entry '" + name + "' appears twice in the ZIP central directory");
                }
                at = next;
            }
            return result;
        }

        /**
         * The data follows the local header, whose extra field may differ from the central one (torch pads it to
         * align the data), so its lengths are read from the local header itself.
         */
        private long dataOffset(String name, long localOffset, long limit) {
            if (!fits(localOffset, LOCAL_SIZE, limit)) {
                throw fail("local header of entry '" + name + "' at offset " + Long.toUnsignedString(localOffset)
                        + " lies outside the file's entry area: the file is truncated or corrupt");
            }
            if (u32(localOffset) != LOCAL_SIGNATURE) {
                throw fail("no ZIP local file header at offset " + localOffset + " for entry '" + name
                        + "' (bad signature): the file is corrupt or not a ZIP archive");
            }
            int nameLength = u16(localOffset + 26);
            int extraLength = u16(localOffset + 28);
            long dataOffset = localOffset + LOCAL_SIZE + nameLength + extraLength;
            if (dataOffset > limit) {
                throw fail("local header of entry '" + name + "' runs past the start of the central directory:"
                        + " the file is truncated or corrupt");
            }
            String localName = string(localOffset + LOCAL_SIZE, nameLength);
            if (!localName.equals(name)) {
                throw fail("local header at offset " + localOffset + " names '" + localName
                        + "' but the central directory names '" + name + "': the file is corrupt");
            }
            return dataOffset;
        }

        /** Offset of the extra-field block with the given id, or -1. */
        private long findExtra(long start, int length, int id, String name) {
            long end = start + length;
            long at = start;
            while (at + 4 <= end) {
                int blockId = u16(at);
                int blockSize = u16(at + 2);
                if (at + 4 + blockSize > end) {
                    throw fail("entry '" + name + "' has a malformed extra field: the file is corrupt");
                }
                if (blockId == id) {
                    return at;
                }
                at += 4 + blockSize;
            }
            return -1;
        }

        private long zip64Field(long at, long extraEnd, String name) {
            if (extraEnd < 0 || at + 8 > extraEnd) {
                throw fail("entry '" + name + "' lacks the Zip64 extra field its directory record requires");
            }
            return u64(at);
        }

        private static String methodName(int method) {
            return switch (method) {
                case 8 -> "deflate";
                case 9 -> "deflate64";
                case 12 -> "bzip2";
                case 14 -> "LZMA";
                case 93 -> "zstd";
                default -> "unknown";
            };
        }

        /** Names are decoded as UTF-8, which covers the ASCII names torch writes whatever the language flag says. */
        private String string(long at, int length) {
            return new String(zip.asSlice(at, length).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }

        private int u16(long at) {
            return Short.toUnsignedInt(zip.get(U16, at));
        }

        private long u32(long at) {
            return Integer.toUnsignedLong(zip.get(U32, at));
        }

        private long u64(long at) {
            return zip.get(U64, at);
        }

        private ModelFormatException fail(String problem) {
            return new ModelFormatException(file, problem);
        }
    }
}
