#!/usr/bin/env python3
"""Draws Coach Chat's app icons (public/icons/*.png): a white speech bubble on the
accent colour, full bleed so it also works as a maskable icon. Standard library only;
run it again only to change the design."""
import struct
import zlib
from pathlib import Path

ACCENT = (15, 118, 110)
WHITE = (255, 255, 255)


def pixel(x, y, size):
    u, v = x / size, y / size
    # bubble: an ellipse in the middle, with a tail at the lower left
    inside = ((u - 0.5) / 0.32) ** 2 + ((v - 0.46) / 0.24) ** 2 <= 1
    tail = 0.30 <= u <= 0.42 and 0.62 <= v <= 0.76 and (u - 0.30) >= (v - 0.62) * 0.85
    return WHITE if inside or tail else ACCENT


def png(size):
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y, size)) for x in range(size)) for y in range(size)
    )

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


out = Path(__file__).resolve().parent.parent / "public" / "icons"
out.mkdir(parents=True, exist_ok=True)
for size in (192, 512):
    (out / f"icon-{size}.png").write_bytes(png(size))
