package io.github.chatglm4j.format.torch;

import java.util.LinkedHashMap;
import java.util.regex.Pattern;

/**
 * The meaning of the few Python callables a {@code torch.save}d state dict refers to, as inert Java records:
 * a tensor becomes a {@link TensorRef} (storage, offset, size, stride) and a storage a {@link StorageRef} naming
 * its {@code data/<key>} entry. Every other global is refused, so nothing a checkpoint says can run code.
 */
final class TorchPickle implements PickleMachine.Resolver {

    /** The callables a state dict may name. */
    enum AllowedGlobal {
        REBUILD_TENSOR_V2("torch._utils", "_rebuild_tensor_v2"),
        REBUILD_PARAMETER("torch._utils", "_rebuild_parameter"),
        ORDERED_DICT("collections", "OrderedDict");

        final String module;
        final String name;

        AllowedGlobal(String module, String name) {
            this.module = module;
            this.name = name;
        }

        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** A storage class such as {@code torch.HalfStorage}; which ones are usable is decided per tensor. */
    record StorageType(String name) {
        @Override
        public String toString() {
            return "torch." + name;
        }
    }

    /** The persistent id torch writes for a storage: its bytes are the archive entry {@code <prefix>/data/<key>}. */
    record StorageRef(StorageType type, String key, String location, long numel) {
        @Override
        public String toString() {
            return "storage '" + key + "'";
        }
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, ...)}: a strided view of a storage. */
    record TensorRef(StorageRef storage, long storageOffset, long[] size, long[] stride) {
        @Override
        public String toString() {
            return "tensor";
        }
    }

    /** Legacy typed-storage class names, which torch still writes into the pickle even with untyped storages. */
    private static final Pattern STORAGE_CLASS = Pattern.compile("[A-Z][A-Za-z0-9]*Storage");

    @Override
    public Object global(String module, String name) {
        for (var allowed : AllowedGlobal.values()) {
            if (allowed.module.equals(module) && allowed.name.equals(name)) {
                return allowed;
            }
        }
        if (module.equals("torch") && STORAGE_CLASS.matcher(name).matches()) {
            return new StorageType(name);
        }
        throw new PickleException("forbidden global " + module + "." + name + " (GLOBAL '" + module + " " + name
                + "'): a weights checkpoint may only refer to torch._utils._rebuild_tensor_v2,"
                + " torch._utils._rebuild_parameter, collections.OrderedDict and torch storage types;"
                + " this file may contain code and is not loaded");
    }

    @Override
    public Object reduce(Object callable, PickleTuple args) {
        if (!(callable instanceof AllowedGlobal function)) {
            throw new PickleException("REDUCE calls a " + PickleMachine.typeName(callable) + ", which is not callable here");
        }
        return switch (function) {
            case ORDERED_DICT -> {
                if (args.size() != 0) {
                    throw new PickleException("collections.OrderedDict called with " + args.size()
                            + " arguments; torch.save writes it with none");
                }
                yield new LinkedHashMap<>();
            }
            case REBUILD_TENSOR_V2 -> rebuildTensor(args);
            case REBUILD_PARAMETER -> {
                // _rebuild_parameter(data, requires_grad, backward_hooks): a Parameter is its data for our purposes.
                if (args.size() != 3 || !(args.get(0) instanceof TensorRef tensor)) {
                    throw new PickleException("torch._utils._rebuild_parameter needs (tensor, requires_grad, hooks), got "
                            + describe(args));
                }
                yield tensor;
            }
        };
    }

    /** Arguments: storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]. */
    private static TensorRef rebuildTensor(PickleTuple args) {
        if ((args.size() != 6 && args.size() != 7)
                || !(args.get(0) instanceof StorageRef storage)
                || !(args.get(1) instanceof Long offset)
                || !(args.get(2) instanceof PickleTuple size)
                || !(args.get(3) instanceof PickleTuple stride)
                || !(args.get(4) instanceof Boolean)
                || !(args.get(5) instanceof LinkedHashMap<?, ?>)) {
            throw new PickleException("torch._utils._rebuild_tensor_v2 needs (storage, offset, size, stride,"
                    + " requires_grad, backward_hooks[, metadata]), got " + describe(args));
        }
        if (offset < 0) {
            throw new PickleException("tensor with negative storage offset " + offset);
        }
        long[] sizes = longs(size, "size");
        long[] strides = longs(stride, "stride");
        if (sizes.length != strides.length) {
            throw new PickleException("tensor with " + sizes.length + " sizes but " + strides.length + " strides");
        }
        for (long s : sizes) {
            if (s < 0) {
                throw new PickleException("tensor with negative size " + s);
            }
        }
        return new TensorRef(storage, offset, sizes, strides);
    }

    private static long[] longs(PickleTuple tuple, String what) {
        var result = new long[tuple.size()];
        for (int i = 0; i < result.length; i++) {
            if (!(tuple.get(i) instanceof Long value)) {
                throw new PickleException("tensor " + what + " holds a " + PickleMachine.typeName(tuple.get(i))
                        + " instead of an int");
            }
            result[i] = value;
        }
        return result;
    }

    /** The persistent id is {@code ('storage', storage_type, key, location, numel)}. */
    @Override
    public Object persistentLoad(Object pid) {
        if (pid instanceof PickleTuple t && t.size() == 5 && "storage".equals(t.get(0))
                && t.get(1) instanceof StorageType type
                && t.get(2) instanceof String key
                && t.get(3) instanceof String location
                && t.get(4) instanceof Long numel) {
            if (numel < 0) {
                throw new PickleException("storage '" + key + "' with negative element count " + numel);
            }
            return new StorageRef(type, key, location, numel);
        }
        throw new PickleException("persistent id is not a torch storage reference ('storage', type, key, location,"
                + " numel): got " + (pid instanceof PickleTuple t ? describe(t) : PickleMachine.typeName(pid)));
    }

    /** The state of an OrderedDict (a state dict's {@code _metadata}) and of a tensor carries nothing we need. */
    @Override
    public void build(Object target, Object state) {
        if (!(target instanceof LinkedHashMap<?, ?>) && !(target instanceof TensorRef)) {
            throw new PickleException("BUILD on a " + PickleMachine.typeName(target)
                    + "; only OrderedDict and tensor state can be set (and is ignored)");
        }
    }

    private static String describe(PickleTuple args) {
        var parts = new StringBuilder("(");
        for (int i = 0; i < args.size(); i++) {
            parts.append(i == 0 ? "" : ", ").append(PickleMachine.typeName(args.get(i)));
        }
        return parts.append(")").toString();
    }
}
