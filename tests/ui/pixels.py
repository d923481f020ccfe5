"""Read a PNG screenshot into a numpy array (8-bit RGB / RGBA, not interlaced: what Chromium
writes), so browser tests can check that a canvas drew something. No imaging library needed."""
from __future__ import annotations

import struct
import zlib

import numpy as np


def decode_png(data: bytes) -> np.ndarray:
    """(height, width, channels) uint8."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {color}, interlace {interlace})")
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    out = np.zeros((height, stride), dtype=np.int32)
    previous = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 2:
            row = (line + previous) % 256
        else:                       # Sub, Average and Paeth depend on the pixel to the left
            row = np.zeros(stride, dtype=np.int32)
            for x in range(stride):
                left = row[x - channels] if x >= channels else 0
                up, corner = previous[x], previous[x - channels] if x >= channels else 0
                if kind == 1:
                    predicted = left
                elif kind == 3:
                    predicted = (left + up) // 2
                else:
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    predicted = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                row[x] = (line[x] + predicted) % 256
        out[y] = previous = row
    return out.reshape(height, width, channels).astype(np.uint8)


def coloured_share(png: bytes) -> float:
    """Share of pixels that are neither white nor grey (the axes and grid are grey or black)."""
    rgb = decode_png(png)[..., :3].astype(int)
    return float((rgb.max(axis=2) - rgb.min(axis=2) > 40).mean())


def hue_count(png: bytes, min_share: float = 0.01) -> int:
    """How many 30° hue sectors hold at least `min_share` of the coloured pixels. Shading changes
    a colour's brightness, not its hue: a surface coloured by value (viridis: purple to yellow)
    spans several sectors, an empty scene of one colour a single one."""
    rgb = decode_png(png)[..., :3].astype(float)
    coloured = rgb[rgb.max(axis=2) - rgb.min(axis=2) > 40]
    if not len(coloured):
        return 0
    r, g, b = coloured.T
    hue = np.degrees(np.arctan2(np.sqrt(3) * (g - b), 2 * r - g - b)) % 360
    counts = np.bincount((hue // 30).astype(int), minlength=12)
    return int((counts >= min_share * len(coloured)).sum())
