#!/usr/bin/env python3
"""Adds an 8x6 RGB thumbnail as a SubIFD (tag 330) of IFD0 of a classic TIFF, as cameras and
raw converters do; used by make-image-corpus.sh (exiftool and ImageMagick cannot write one).
Usage: tiff-add-thumbnail.py FILE"""
import struct
import sys

path = sys.argv[1]
data = bytearray(open(path, "rb").read())
e = "<" if data[:2] == b"II" else ">"
if struct.unpack(e + "H", data[2:4])[0] != 42:
    sys.exit("not a classic TIFF")


def align():
    if len(data) % 2:
        data.append(0)


ifd0 = struct.unpack(e + "I", data[4:8])[0]
n = struct.unpack(e + "H", data[ifd0:ifd0 + 2])[0]
entries = [bytes(data[ifd0 + 2 + 12 * i: ifd0 + 14 + 12 * i]) for i in range(n)]
next_ifd = data[ifd0 + 2 + 12 * n: ifd0 + 6 + 12 * n]

# The thumbnail: strip data, its BitsPerSample array, then its IFD.
align()
strip_at = len(data)
data += bytes((x * 37 + 11) % 256 for x in range(8 * 6 * 3))
align()
bps_at = len(data)
data += struct.pack(e + "HHH", 8, 8, 8)
align()
thumb_at = len(data)
tags = [(254, 4, 1, 1), (256, 3, 1, 8), (257, 3, 1, 6), (258, 3, 3, bps_at), (259, 3, 1, 1), (262, 3, 1, 2),
        (273, 4, 1, strip_at), (277, 3, 1, 3), (278, 3, 1, 6), (279, 4, 1, 8 * 6 * 3)]
data += struct.pack(e + "H", len(tags))
for tag, typ, count, value in tags:
    v = struct.pack(e + "H", value) + b"\0\0" if typ == 3 and count == 1 else struct.pack(e + "I", value)
    data += struct.pack(e + "HHI", tag, typ, count) + v
data += b"\0\0\0\0"

# IFD0 again, with the SubIFDs entry, at the end; the header points to it.
entries.append(struct.pack(e + "HHII", 330, 4, 1, thumb_at))
entries.sort(key=lambda b: struct.unpack(e + "H", b[:2])[0])
align()
new_ifd0 = len(data)
data += struct.pack(e + "H", len(entries)) + b"".join(entries) + next_ifd
data[4:8] = struct.pack(e + "I", new_ifd0)
open(path, "wb").write(data)
