#!/usr/bin/env python3
"""Writes the small test inputs of io.github.chatglm4j.format.torch (run from this directory; no torch needed).

Tensor pickles are produced by Python's own pickle module with stand-ins for the torch objects, exactly the way
torch.save pickles a state dict (a Pickler whose persistent_id turns storages into
('storage', storage_type, key, location, numel) and tensors that reduce to torch._utils._rebuild_tensor_v2), so
the opcode stream is the real pickler's, not ours. Archives are written either by zipfile or, for the Zip64
cases, by the small writer below; every archive is read back with zipfile before it is kept.

Files (see the Java tests for what each one pins):
  plain-values-p2.pkl, plain-values-p4.pkl   PLAIN_VALUE pickled with protocols 2 and 4
  shared-storage.bin        several tensors (F32 views of one storage, one BF16 Parameter), OrderedDict + BUILD
  shared-storage-zip64.bin  the same entries, every size and offset moved into Zip64 extra fields
  many-tensors.bin          300 tensors (memo indices past 255: LONG_BINPUT / LONG_BINGET)
  sparse-4gib.head/.tail/.json   a > 4 GiB checkpoint as head + hole + tail (the test rebuilds it sparse)
  bad-*.bin                 one defect each, named in the file name
"""
import collections
import io
import json
import os
import pickle
import pickletools
import struct
import sys
import tempfile
import types
import zipfile
import zlib

# ---- stand-ins for torch, registered so that pickle writes the genuine GLOBAL names ----

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


def _never_called(*args):
    raise AssertionError("only pickled, never called")


for fname in ("_rebuild_tensor_v2", "_rebuild_parameter"):
    f = types.FunctionType(_never_called.__code__, {}, fname)
    f.__module__ = "torch._utils"
    f.__qualname__ = fname
    setattr(torch_utils, fname, f)

for sname in ("HalfStorage", "BFloat16Storage", "FloatStorage", "LongStorage"):
    cls = type(sname, (), {})
    cls.__module__ = "torch"
    setattr(torch, sname, cls)


class Storage:
    def __init__(self, type_name, key, data, element_size):
        assert len(data) % element_size == 0
        self.type = getattr(torch, type_name)
        self.key = key
        self.data = data
        self.numel = len(data) // element_size


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def __reduce_ex__(self, protocol):
        return (torch_utils._rebuild_tensor_v2,
                (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))


class Parameter:
    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce_ex__(self, protocol):
        return (torch_utils._rebuild_parameter, (self.tensor, True, collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.type, obj.key, "cpu", obj.numel)
        return None


def pickle_state_dict(state_dict, protocol=2):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=protocol).dump(state_dict)
    data = buf.getvalue()
    pickletools.dis(data, out=io.StringIO())  # a well-formed stream, or this raises
    return data


def storages_of(state_dict):
    found = {}
    for value in state_dict.values():
        tensor = value.tensor if isinstance(value, Parameter) else value
        found[tensor.storage.key] = tensor.storage
    return found


def entries_for(state_dict, prefix, pickle_bytes=None, extra=()):
    entries = [(prefix + "/data.pkl", pickle_bytes if pickle_bytes is not None else pickle_state_dict(state_dict))]
    for key, storage in storages_of(state_dict).items():
        entries.append((prefix + "/data/" + key, storage.data))
    entries.append((prefix + "/version", b"3\n"))
    entries.extend(extra)
    return entries


def write_zipfile(path, entries, deflated=()):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))  # fixed, so reruns give the same bytes
            z.writestr(info, data, zipfile.ZIP_DEFLATED if name in deflated else zipfile.ZIP_STORED)
    check_archive(path, entries)


def check_archive(path, entries, skip=()):
    with zipfile.ZipFile(path) as z:
        assert z.namelist() == [name for name, _ in entries], z.namelist()
        for name, data in entries:
            if name not in skip:
                assert z.read(name) == data, name


# ---- a minimal ZIP writer for the Zip64 layouts zipfile does not produce for small files ----

U32 = 0xFFFFFFFF


class ZipWriter:
    """Stored entries; Zip64 fields wherever a value does not fit (or everywhere with force_zip64)."""

    def __init__(self, out, force_zip64):
        self.out = out
        self.force = force_zip64
        self.central = []

    def add(self, name, data=None, size=None, crc=None, hole=False):
        """With hole=True the data is skipped (left as a hole) and size/crc must be given."""
        name_bytes = name.encode()
        size = len(data) if size is None else size
        crc = zlib.crc32(data) if crc is None else crc
        offset = self.out.tell()
        big_size = self.force or size >= U32
        local_extra = struct.pack("<HHQQ", 1, 16, size, size) if big_size else b""
        # Pad the data to 64 bytes with an unknown extra block, as torch does; only the local header has it.
        pad = -(offset + 30 + len(name_bytes) + len(local_extra) + 4) % 64
        local_extra += struct.pack("<HH", 0x4246, pad) + b"Z" * pad
        local_size = U32 if big_size else size
        self.out.write(struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0x0800, 0, 0, 0x21, crc, local_size, local_size,
                                   len(name_bytes), len(local_extra)))
        self.out.write(name_bytes + local_extra)
        if hole:
            self.out.seek(size, os.SEEK_CUR)
        else:
            self.out.write(data)
        self.central.append((name_bytes, size, crc, offset))

    def finish(self):
        start = self.out.tell()
        for name_bytes, size, crc, offset in self.central:
            fields, extra = [], b""
            record_size = size
            record_offset = offset
            if self.force or size >= U32:
                fields += [size, size]
                record_size = U32
            if self.force or offset >= U32:
                fields.append(offset)
                record_offset = U32
            if fields:
                extra = struct.pack("<HH", 1, 8 * len(fields)) + struct.pack("<%dQ" % len(fields), *fields)
            self.out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 0x031e, 45, 0x0800, 0, 0, 0x21, crc,
                                       record_size, record_size, len(name_bytes), len(extra), 0, 0, 0, 0,
                                       record_offset))
            self.out.write(name_bytes + extra)
        end = self.out.tell()
        count = len(self.central)
        self.out.write(struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, count, count, end - start, start))
        self.out.write(struct.pack("<IIQI", 0x07064b50, 0, end, 1))
        self.out.write(struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xFFFF, 0xFFFF, U32, U32, 0))


def write_zip64(path, entries):
    with open(path, "wb") as out:
        writer = ZipWriter(out, force_zip64=True)
        for name, data in entries:
            writer.add(name, data)
        writer.finish()
    check_archive(path, entries)


# ---- contents ----

def f32(*values):
    return struct.pack("<%df" % len(values), *values)


def f16(*values):
    return struct.pack("<%de" % len(values), *values)


def bf16(*values):
    # Exactly representable values only: bfloat16 is the upper half of the float32 bits.
    out = b""
    for v in values:
        bits = struct.unpack("<I", struct.pack("<f", v))[0]
        assert bits & 0xFFFF == 0, v
        out += struct.pack("<H", bits >> 16)
    return out


PLAIN_VALUE = {
    "text": "h\u00e9llo \u2713 \U0001F600",
    "empty": "",
    "long text": "x" * 300,
    "ints": [0, 1, 255, 256, 65535, 65536, -1, -129, 2**31 - 1, -2**31, 2**31, 2**40, -2**40, 2**63 - 1, -2**63],
    "floats": [0.0, -1.5, 1e300, 3.141592653589793, -0.0],
    "bools": (True, False),
    "none": None,
    "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
    "ordered": collections.OrderedDict([("b", 1), ("a", 2)]),
    7: "int key",
}
SHARED = ["same"]
PLAIN_VALUE["shared"] = [SHARED, SHARED]


def shared_storage_state_dict():
    values = f32(*[float(i) for i in range(12)])
    s0 = Storage("FloatStorage", "0", values, 4)
    s1 = Storage("BFloat16Storage", "1", bf16(1.0, -2.0, 0.5, 3.0), 2)
    sd = collections.OrderedDict()
    sd["a"] = Tensor(s0, 0, (2, 3), (3, 1))
    sd["b"] = Tensor(s0, 6, (6,), (1,))
    sd["scalar"] = Tensor(s0, 5, (), ())
    sd["row"] = Tensor(s0, 3, (1, 3), (7, 1))  # a size-1 dimension may have any stride and still be contiguous
    sd["empty"] = Tensor(s0, 12, (0, 4), (4, 1))
    sd["p"] = Parameter(Tensor(s1, 0, (2, 2), (2, 1)))
    # What nn.Module.state_dict() attaches; pickled as BUILD after the items.
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("layer", {"version": 1})])
    return sd


def many_tensors_state_dict():
    sd = {}
    for i in range(300):
        if i < 150:
            storage = Storage("HalfStorage", str(i), f16(i, -i), 2)
        else:  # FloatStorage is first memoized past index 255, so its later uses need LONG_BINGET
            storage = Storage("FloatStorage", str(i), f32(i, -i), 4)
        sd["t%d" % i] = Tensor(storage, 0, (2,), (1,))
    return sd


def single(type_name, size, stride, offset=0, numel=12, element_size=4, key="0"):
    storage = Storage(type_name, key, b"\x01" * (numel * element_size), element_size)
    return {"w": Tensor(storage, offset, size, stride)}


class Call:
    """A pickle payload that would call func(*args) on load."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def main():
    with open("plain-values-p2.pkl", "wb") as f:
        f.write(pickle.dumps(PLAIN_VALUE, protocol=2))
    with open("plain-values-p4.pkl", "wb") as f:
        f.write(pickle.dumps(PLAIN_VALUE, protocol=4))

    sd = shared_storage_state_dict()
    write_zipfile("shared-storage.bin", entries_for(sd, "shared-storage"))
    write_zip64("shared-storage-zip64.bin", entries_for(sd, "shared-storage"))
    write_zipfile("many-tensors.bin", entries_for(many_tensors_state_dict(), "many-tensors"))

    # Defects, one per file.
    prefix = "archive"
    write_zipfile("bad-compressed-pickle.bin", entries_for(sd, prefix), deflated={prefix + "/data.pkl"})
    write_zipfile("bad-compressed-storage.bin", entries_for(sd, prefix), deflated={prefix + "/data/1"})
    write_zipfile("bad-noncontiguous.bin", entries_for(single("FloatStorage", (3, 2), (1, 3), numel=6), prefix))
    write_zipfile("bad-long-storage.bin", entries_for(single("LongStorage", (3,), (1,), numel=3, element_size=8), prefix))
    write_zipfile("bad-offset-out-of-range.bin", entries_for(single("FloatStorage", (4,), (1,), offset=10), prefix))
    short = single("FloatStorage", (12,), (1,))
    short_entries = entries_for(short, prefix)
    short_entries[1] = (short_entries[1][0], short_entries[1][1][:40])
    write_zipfile("bad-storage-too-small.bin", short_entries)
    missing = entries_for(single("FloatStorage", (12,), (1,), key="7"), prefix)
    write_zipfile("bad-missing-storage.bin", [e for e in missing if "/data/" not in e[0]])
    write_zipfile("bad-big-endian.bin", entries_for(sd, prefix, extra=[(prefix + "/byteorder", b"big")]))

    os_system = b"\x80\x02cos\nsystem\nq\x00X\x06\x00\x00\x00id > xq\x01\x85q\x02Rq\x03."
    pickletools.dis(os_system, out=io.StringIO())
    write_zipfile("bad-global-os-system.bin", entries_for(sd, prefix, pickle_bytes=os_system))
    # Hidden inside a state dict, as the real pickler writes it (fix_imports=False keeps 'builtins').
    evil = pickle.dumps({"w": Call(eval, "__import__('os').system('id')")}, protocol=2, fix_imports=False)
    assert b"cbuiltins\neval\n" in evil
    write_zipfile("bad-global-builtins-eval.bin", entries_for(sd, prefix, pickle_bytes=evil))
    not_an_opcode = b"\x80\x02}q\x00\xff."
    write_zipfile("bad-unknown-opcode.bin", entries_for(sd, prefix, pickle_bytes=not_an_opcode))
    # A real opcode torch never writes for a state dict: protocol-0 STRING.
    string_opcode = b"\x80\x02}q\x00(S'w'\nK\x01u."
    pickletools.dis(string_opcode, out=io.StringIO())
    write_zipfile("bad-string-opcode.bin", entries_for(sd, prefix, pickle_bytes=string_opcode))

    write_sparse()


# A tensor whose storage is larger than 4 GiB, followed by entries whose local headers lie past 4 GiB.
BIG_ROWS, BIG_COLS = 65536, 32769
BIG_BYTES = 2 * BIG_ROWS * BIG_COLS


def write_sparse():
    big = Storage("HalfStorage", "0", b"", 2)
    big.numel = BIG_BYTES // 2
    small = Storage("FloatStorage", "1", f32(1.0, 2.0, 3.0, 4.0), 4)
    sd = {
        "big": Tensor(big, 0, (BIG_ROWS, BIG_COLS), (BIG_COLS, 1)),
        "big_tail": Tensor(big, big.numel - 8, (8,), (1,)),
        "small": Tensor(small, 0, (2, 2), (2, 1)),
    }
    prefix = "sparse"
    pkl = pickle_state_dict(sd)
    assert b"\x8a" in pkl  # the element count needs LONG1

    # The CRC-32 of BIG_BYTES zero bytes (what the hole reads as), in chunks.
    crc, chunk, left = 0, bytes(1 << 24), BIG_BYTES
    while left:
        n = min(left, len(chunk))
        crc = zlib.crc32(chunk[:n] if n < len(chunk) else chunk, crc)
        left -= n

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sparse.bin")
        with open(path, "wb") as out:
            writer = ZipWriter(out, force_zip64=False)
            writer.add(prefix + "/data.pkl", pkl)
            writer.add(prefix + "/data/0", size=BIG_BYTES, crc=crc, hole=True)
            hole_end = out.tell()
            hole_start = hole_end - BIG_BYTES
            writer.add(prefix + "/data/1", small.data)
            writer.add(prefix + "/version", b"3\n")
            writer.finish()
            total = out.tell()
        entries = [(prefix + "/data.pkl", pkl), (prefix + "/data/0", None), (prefix + "/data/1", small.data),
                   (prefix + "/version", b"3\n")]
        check_archive(path, entries, skip={prefix + "/data/0"})
        with zipfile.ZipFile(path) as z:
            info = z.getinfo(prefix + "/data/0")
            assert info.file_size == BIG_BYTES and z.getinfo(prefix + "/data/1").header_offset > U32
        with open(path, "rb") as f:
            head = f.read(hole_start)
            f.seek(hole_end)
            tail = f.read()
    with open("sparse-4gib.head", "wb") as f:
        f.write(head)
    with open("sparse-4gib.tail", "wb") as f:
        f.write(tail)
    with open("sparse-4gib.json", "w") as f:
        json.dump({"holeOffset": hole_start, "holeLength": BIG_BYTES, "fileSize": total}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
