#!/usr/bin/env python3
"""Marks one symbol-version requirement of an ELF shared library as weak (VER_FLG_WEAK), in place.

TorchSharp-cpu 0.107.0's libLibTorchSharp.so requires GLIBCXX_3.4.32 (GCC 13's libstdc++) for a single symbol,
std::ios_base_library_init, that the benchmarks never call. Debian 12's libstdc++ stops at GLIBCXX_3.4.30, so the
loader refuses the library. With the requirement weak, the loader accepts it and the rest binds as usual.
The benchmark build runs this on its own build-output copy only, never on the NuGet cache.

usage: weaken-version-requirement.py LIBRARY VERSION
"""
import os
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def main(path, version):
    with open(path, "rb") as f:
        data = bytearray(f.read())
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            sys.exit(f"{path}: not a little-endian 64-bit ELF file")
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
        changed = 0
        for (_, sh_type, _, _, offset, _, link, info, _, _) in sections:
            if sh_type != SHT_GNU_VERNEED:
                continue
            strings = sections[link][4]
            entry = offset
            for _ in range(info):
                _, count, _, aux, next_entry = struct.unpack_from("<HHIII", data, entry)
                at = entry + aux
                for _ in range(count):
                    _, flags, _, name, next_aux = struct.unpack_from("<IHHII", data, at)
                    end = data.index(b"\0", strings + name)
                    if data[strings + name:end].decode() == version and not flags & VER_FLG_WEAK:
                        struct.pack_into("<H", data, at + 4, flags | VER_FLG_WEAK)
                        changed += 1
                    at += next_aux
                entry += next_entry
    if changed:
        # Write a new file and move it over the old one: the output copy may be a hard link into the NuGet cache.
        temporary = path + ".weakened"
        with open(temporary, "wb") as out:
            out.write(data)
        os.chmod(temporary, os.stat(path).st_mode)
        os.replace(temporary, path)
    print(f"{path}: {version} {'made weak' if changed else 'already weak or not required'}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
