package io.github.chatglm4j.format.torch;

import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.torch.TorchPickle.StorageRef;
import io.github.chatglm4j.format.torch.TorchPickle.TensorRef;
import io.github.chatglm4j.tensor.TensorType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Turns the archive {@code torch.save} writes into tensor entries: {@code <prefix>/data.pkl} (the state dict
 * pickle) names for each tensor a storage {@code <prefix>/data/<key>} plus offset, size and stride; the tensor's
 * bytes are then a slice of that storage entry in the mapping.
 */
final class StateDictReader {
    private static final String PICKLE = "data.pkl";

    private final MemorySegment mapping;
    private final Path file;
    private final ZipDirectory zip;
    private final String prefix;
    private final Map<String, StorageRef> storagesByKey = new HashMap<>();

    private StateDictReader(MemorySegment mapping, Path file, ZipDirectory zip, String prefix) {
        this.mapping = mapping;
        this.file = file;
        this.zip = zip;
        this.prefix = prefix;
    }

    static List<TensorEntry> read(MemorySegment mapping, Path file) {
        if (mapping.byteSize() >= 2 && mapping.get(ValueLayout.JAVA_BYTE, 0) == (byte) 0x80
                && mapping.get(ValueLayout.JAVA_BYTE, 1) == 0x02) {
            throw new ModelFormatException(file, "this is the legacy torch.save format (a bare pickle, before"
                    + " PyTorch 1.6), which is not supported: re-save it with a current torch.save or convert it to"
                    + " safetensors");
        }
        var zip = ZipDirectory.read(mapping, file);
        var reader = new StateDictReader(mapping, file, zip, prefix(zip, file));
        reader.checkByteOrder();
        return reader.tensors(reader.unpickle());
    }

    /** torch.save puts everything under one top-level folder, named after the file it first wrote. */
    private static String prefix(ZipDirectory zip, Path file) {
        String found = null;
        for (var entry : zip.entries()) {
            String name = entry.name();
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals(PICKLE)) {
                if (found != null) {
                    throw new ModelFormatException(file, "the archive holds more than one " + PICKLE + " ('" + found
                            + "/" + PICKLE + "' and '" + name + "')");
                }
                found = name.substring(0, slash);
            }
        }
        if (found == null) {
            throw new ModelFormatException(file, "no <name>/" + PICKLE + " entry: this ZIP archive is not a"
                    + " torch.save checkpoint");
        }
        return found;
    }

    /** Files from torch 2.1 on state their byte order; older ones are always little-endian. */
    private void checkByteOrder() {
        zip.entry(prefix + "/byteorder").ifPresent(entry -> {
            if (entry.size() > 16) {
                throw new ModelFormatException(file, "unexpected '" + entry.name() + "' entry of " + entry.size() + " bytes");
            }
            String order = new String(bytes(entry).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).strip();
            if (!order.equals("little")) {
                throw new ModelFormatException(file, "the checkpoint was written with '" + order + "' byte order;"
                        + " only little-endian checkpoints are supported");
            }
        });
    }

    private Map<?, ?> unpickle() {
        var entry = zip.entry(prefix + "/" + PICKLE).orElseThrow();
        var pickle = bytes(entry);
        var crc = new CRC32();
        crc.update(pickle.asByteBuffer());
        if ((int) crc.getValue() != entry.crc32()) {
            throw new ModelFormatException(file, "'" + entry.name() + "' fails its CRC-32 check: the file is corrupt");
        }
        Object root = PickleMachine.load(pickle, new TorchPickle(), file, entry.name());
        if (!(root instanceof Map<?, ?> stateDict)) {
            throw new ModelFormatException(file, "'" + entry.name() + "' holds a " + PickleMachine.typeName(root)
                    + ", not a state dict (a dict of tensors)");
        }
        return stateDict;
    }

    private List<TensorEntry> tensors(Map<?, ?> stateDict) {
        var result = new ArrayList<TensorEntry>(stateDict.size());
        for (var item : stateDict.entrySet()) {
            if (!(item.getKey() instanceof String name)) {
                throw new ModelFormatException(file, "the state dict has a key of type "
                        + PickleMachine.typeName(item.getKey()) + " instead of a tensor name");
            }
            if (!(item.getValue() instanceof TensorRef tensor)) {
                throw new ModelFormatException(file, "state dict entry '" + name + "' is a "
                        + PickleMachine.typeName(item.getValue()) + ", not a tensor");
            }
            result.add(entry(name, tensor));
        }
        return result;
    }

    private TensorEntry entry(String name, TensorRef tensor) {
        StorageRef storage = tensor.storage();
        TensorType type = switch (storage.type().name()) {
            case "HalfStorage" -> TensorType.F16;
            case "BFloat16Storage" -> TensorType.BF16;
            case "FloatStorage" -> TensorType.F32;
            default -> throw problem(name, "has unsupported element type " + storage.type()
                    + "; only torch.HalfStorage (F16), torch.BFloat16Storage (BF16) and torch.FloatStorage (F32)"
                    + " are supported");
        };
        var data = storageData(name, storage, type);
        long[] size = tensor.size();
        long elements;
        try {
            elements = 1;
            for (long d : size) {
                elements = Math.multiplyExact(elements, d);
            }
            checkContiguous(name, size, tensor.stride());
            long end = Math.addExact(tensor.storageOffset(), elements);
            if (end > storage.numel()) {
                throw problem(name, "covers elements " + tensor.storageOffset() + " to " + end + " of storage '"
                        + storage.key() + "', which has only " + storage.numel() + " elements");
            }
        } catch (ArithmeticException e) {
            throw problem(name, "has a size that overflows 64 bits");
        }
        long bytesPerElement = type.byteSize(1);
        var slice = data.asSlice(tensor.storageOffset() * bytesPerElement, elements * bytesPerElement);
        return new TensorEntry(name, type, size, slice, file);
    }

    /** The whole storage entry; its size must be exactly numel elements, and every reference must agree on it. */
    private MemorySegment storageData(String tensor, StorageRef storage, TensorType type) {
        var previous = storagesByKey.putIfAbsent(storage.key(), storage);
        if (previous != null && (!previous.type().equals(storage.type()) || previous.numel() != storage.numel())) {
            throw problem(tensor, "refers to storage '" + storage.key() + "' as " + storage.numel() + " elements of "
                    + storage.type() + ", but an earlier tensor as " + previous.numel() + " elements of "
                    + previous.type());
        }
        String entryName = prefix + "/data/" + storage.key();
        var entry = zip.entry(entryName).orElseThrow(() -> problem(tensor, "refers to storage '" + storage.key()
                + "', but the archive has no entry '" + entryName + "': the file is truncated or corrupt"));
        long expected;
        try {
            expected = Math.multiplyExact(storage.numel(), type.byteSize(1));
        } catch (ArithmeticException e) {
            throw problem(tensor, "has a storage of " + storage.numel() + " elements, which overflows 64 bits");
        }
        if (entry.size() != expected) {
            throw problem(tensor, "has storage '" + storage.key() + "' of " + storage.numel() + " " + type
                    + " elements (" + expected + " bytes), but entry '" + entryName + "' holds " + entry.size()
                    + " bytes: the file is truncated or corrupt");
        }
        return bytes(entry);
    }

    /**
     * Row-major contiguity as torch defines it: a dimension of extent 1 may have any stride, and a tensor
     * without elements is always contiguous.
     */
    private void checkContiguous(String name, long[] size, long[] stride) {
        for (long d : size) {
            if (d == 0) {
                return;
            }
        }
        long expected = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expected) {
                throw problem(name, "is not contiguous (size " + Arrays.toString(size) + ", stride "
                        + Arrays.toString(stride) + "); only row-major contiguous tensors can be mapped:"
                        + " save them with .contiguous()");
            }
            expected = Math.multiplyExact(expected, size[i]);
        }
    }

    /** ZipDirectory has already checked that every entry lies inside the mapping. */
    private MemorySegment bytes(ZipDirectory.Entry entry) {
        return mapping.asSlice(entry.dataOffset(), entry.size());
    }

    private ModelFormatException problem(String tensor, String problem) {
        return new ModelFormatException(file, "tensor '" + tensor + "' " + problem);
    }
}
