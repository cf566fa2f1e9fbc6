"""Read back the text of a QR code PNG, as a phone's camera would (test-side only).

The end-to-end tests enrol TOTP "from the QR data": what the page would show in an
`<img>` must decode to the `otpauth://` URI carrying the secret. No QR reader library is
available here, so this is a small reader for clean, axis-aligned images (what a server
renders): PNG decoding with `zlib` (chunk CRCs, row filters), module sampling, format
information, unmasking, the zig-zag codeword order, block de-interleaving and the
numeric / alphanumeric / byte segments (ISO/IEC 18004). Error correction is not applied:
a rendered image has no errors, so a bit out of place fails the read instead of being
repaired. Only the per-version block table and alignment positions come from segno's
constants (they are the standard's tables, not its encoder).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

from segno import consts

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FORMAT_MASK = 0x5412
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
MASKS: dict[int, Callable[[int, int], bool]] = {
    0: lambda i, j: (i + j) % 2 == 0,
    1: lambda i, j: i % 2 == 0,
    2: lambda i, j: j % 3 == 0,
    3: lambda i, j: (i + j) % 3 == 0,
    4: lambda i, j: (i // 2 + j // 3) % 2 == 0,
    5: lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    6: lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    7: lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
}


class Unreadable(AssertionError):
    """The image is not a well-formed QR code PNG."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise Unreadable(message)


# ---------------------------------------------------------------------------------------
# PNG


def png_dark_pixels(data: bytes) -> list[list[bool]]:
    """The image as rows of "is dark" (luminance below half), after checking every
    chunk's CRC and that the image data inflates to exactly its filtered rows."""
    _check(data.startswith(PNG_SIGNATURE), f"not a PNG: {data[:16]!r}")
    at, chunks = len(PNG_SIGNATURE), []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        _check(zlib.crc32(kind + body) == crc, f"bad CRC in chunk {kind!r}")
        chunks.append((kind, body))
        at += 12 + length
    kinds = [kind for kind, _ in chunks]
    _check(kinds[0] == b"IHDR" and kinds[-1] == b"IEND", f"chunk order {kinds}")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    _check(interlace == 0, "interlaced PNG")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    palette = b"".join(body for kind, body in chunks if kind == b"PLTE")
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = (width * channels * depth + 7) // 8
    _check(len(raw) == height * (1 + stride), "image data does not match IHDR")
    bpp = max(1, channels * depth // 8)
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        kind, line = (
            raw[y * (1 + stride)],
            bytearray(raw[y * (1 + stride) + 1 : (y + 1) * (1 + stride)]),
        )
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            up = previous[x]
            corner = previous[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                nearest = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + nearest) & 0xFF
            else:
                _check(kind == 0, f"unknown PNG filter {kind}")
        rows.append(_row_darkness(bytes(line), width, depth, colour, channels, palette))
        previous = line
    return rows


def _row_darkness(
    line: bytes, width: int, depth: int, colour: int, channels: int, palette: bytes
) -> list[bool]:
    samples: list[int] = []
    if depth < 8:
        per_byte = 8 // depth
        for byte in line:
            for k in range(per_byte):
                samples.append((byte >> (8 - depth * (k + 1))) & ((1 << depth) - 1))
    else:
        size = depth // 8
        samples = [int.from_bytes(line[k : k + size], "big") for k in range(0, len(line), size)]
    top = (1 << depth) - 1
    dark = []
    for x in range(width):
        pixel = samples[x * channels : (x + 1) * channels]
        if colour == 3:
            r, g, b = palette[3 * pixel[0] : 3 * pixel[0] + 3]
            level = (r + g + b) / 3 / 255
        elif colour in (0, 4):
            level = pixel[0] / top
        else:
            level = sum(pixel[:3]) / 3 / top
        dark.append(level < 0.5)
    return dark


# ---------------------------------------------------------------------------------------
# QR


def _modules(pixels: list[list[bool]]) -> list[list[bool]]:
    """Sample the module grid: the dark area's bounding box, the module size from the
    top-left finder pattern's first row (7 modules)."""
    dark_rows = [y for y, row in enumerate(pixels) if any(row)]
    _check(bool(dark_rows), "blank image")
    top, bottom = dark_rows[0], dark_rows[-1]
    left = min(row.index(True) for row in pixels if any(row))
    right = max(len(row) - 1 - row[::-1].index(True) for row in pixels if any(row))
    run = 0
    while pixels[top][left + run]:
        run += 1
    _check(run % 7 == 0, f"finder row of {run} pixels")
    scale = run // 7
    size = (right - left + 1) // scale
    _check((bottom - top + 1) // scale == size and (size - 17) % 4 == 0, f"size {size}")
    return [
        [pixels[top + r * scale + scale // 2][left + c * scale + scale // 2] for c in range(size)]
        for r in range(size)
    ]


def _finder_at(m: list[list[bool]], top: int, left: int) -> bool:
    for r in range(7):
        for c in range(7):
            ring = max(abs(r - 3), abs(c - 3))
            if m[top + r][left + c] != (ring != 2):
                return False
    return True


def _reserved(size: int, version: int) -> list[list[bool]]:
    """Function patterns: finders + separators + format areas, timing lines,
    alignment patterns, version information (the dark module is in a format area)."""
    used = [[False] * size for _ in range(size)]

    def mark(top: int, left: int, rows: int, cols: int) -> None:
        for r in range(top, top + rows):
            for c in range(left, left + cols):
                used[r][c] = True

    mark(0, 0, 9, 9)
    mark(0, size - 8, 9, 8)
    mark(size - 8, 0, 8, 9)
    mark(6, 0, 1, size)
    mark(0, 6, size, 1)
    if version >= 2:
        centres = consts.ALIGNMENT_POS[version - 2]
        for r in centres:
            for c in centres:
                if (r, c) in ((6, 6), (6, centres[-1]), (centres[-1], 6)):
                    continue
                mark(r - 2, c - 2, 5, 5)
    if version >= 7:
        mark(0, size - 11, 6, 3)
        mark(size - 11, 0, 3, 6)
    return used


def _format(m: list[list[bool]]) -> tuple[int, int]:
    """(error level bits, mask) from both copies of the format information."""
    size = len(m)
    first = [m[8][c] for c in (0, 1, 2, 3, 4, 5, 7, 8)] + [m[r][8] for r in (7, 5, 4, 3, 2, 1, 0)]
    second = [m[r][8] for r in range(size - 1, size - 8, -1)] + [
        m[8][c] for c in range(size - 8, size)
    ]
    words = [int("".join("1" if bit else "0" for bit in bits), 2) for bits in (first, second)]
    _check(words[0] == words[1], f"format copies differ: {words}")
    data = (words[0] ^ FORMAT_MASK) >> 10
    return data >> 3, data & 0b111


def _segments(bits: str, version: int) -> str:
    text = ""
    at = 0

    def take(n: int) -> int:
        nonlocal at
        _check(at + n <= len(bits), "data runs past the end")
        value = int(bits[at : at + n], 2)
        at += n
        return value

    band = 0 if version <= 9 else 1 if version <= 26 else 2
    while len(bits) - at >= 4:
        mode = take(4)
        if mode == 0:
            break
        if mode == consts.MODE_ECI:
            take(8)
        elif mode == consts.MODE_BYTE:
            count = take((8, 16, 16)[band])
            try:
                text += bytes(take(8) for _ in range(count)).decode("utf-8")
            except UnicodeDecodeError as error:
                raise Unreadable(f"byte segment is not UTF-8: {error}") from None
        elif mode == consts.MODE_ALPHANUMERIC:
            count = take((9, 11, 13)[band])
            for _ in range(count // 2):
                pair = take(11)
                text += ALPHANUMERIC[pair // 45] + ALPHANUMERIC[pair % 45]
            if count % 2:
                text += ALPHANUMERIC[take(6)]
        elif mode == consts.MODE_NUMERIC:
            count = take((10, 12, 14)[band])
            for start in range(0, count, 3):
                digits = min(3, count - start)
                text += str(take((4, 7, 10)[digits - 1])).zfill(digits)
        else:
            raise Unreadable(f"unsupported segment mode {mode}")
    return text


def read_qr_png(data: bytes) -> str:
    """The text a QR code PNG encodes. Raises `Unreadable` (an AssertionError) when the
    image is not a well-formed QR code."""
    m = _modules(png_dark_pixels(data))
    size = len(m)
    version = (size - 17) // 4
    for top, left in ((0, 0), (0, size - 7), (size - 7, 0)):
        _check(_finder_at(m, top, left), f"no finder pattern at {(top, left)}")
    level, mask_id = _format(m)
    mask = MASKS[mask_id]
    used = _reserved(size, version)

    bits: list[str] = []
    upward, col = True, size - 1
    while col > 0:
        if col == 6:
            col -= 1
        rows = range(size - 1, -1, -1) if upward else range(size)
        for r in rows:
            for c in (col, col - 1):
                if not used[r][c]:
                    bits.append("1" if m[r][c] != mask(r, c) else "0")
        upward = not upward
        col -= 2
    codewords = [int("".join(bits[k : k + 8]), 2) for k in range(0, len(bits) - 7, 8)]

    blocks: list[list[int]] = []
    for group in consts.ECC[version][level]:
        blocks.extend([] for _ in range(group.num_blocks))
    lengths = [g.num_data for g in consts.ECC[version][level] for _ in range(g.num_blocks)]
    at = 0
    for k in range(max(lengths)):
        for block, length in zip(blocks, lengths, strict=True):
            if k < length:
                block.append(codewords[at])
                at += 1
    data_bits = "".join(f"{word:08b}" for block in blocks for word in block)
    return _segments(data_bits, version)
