"""Audio facts the transcription emulator reads from the uploaded bytes: the duration of a WAV
(RIFF fmt/data chunks) or an Ogg (Opus or Vorbis) file, so per-minute charging can be tested
with real files. Other formats have no parsed duration."""

from __future__ import annotations

import struct

SUPPORTED_FORMATS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")


def file_format(filename: str) -> str:
    """The extension the API judges a file by ('' when the name has none)."""
    _, dot, ext = filename.rpartition(".")
    return ext.lower() if dot else ""


def wav_duration(data: bytes) -> float | None:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, byte_rate, data_size = 12, 0, None
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if chunk == b"fmt " and size >= 16 and pos + 24 <= len(data):
            byte_rate = struct.unpack_from("<I", data, pos + 16)[0]
        elif chunk == b"data":
            data_size = min(size, len(data) - pos - 8)
            break
        pos += 8 + size + (size & 1)
    if not byte_rate or data_size is None:
        return None
    return float(data_size / byte_rate)


def ogg_duration(data: bytes) -> float | None:
    """Duration from the last page's granule position (Opus: 48 kHz less pre-skip; Vorbis: the
    identification header's sample rate)."""
    if not data.startswith(b"OggS") or len(data) < 28:
        return None
    last = data.rfind(b"OggS")
    if last < 0 or last + 14 > len(data):
        return None
    granule = int(struct.unpack_from("<q", data, last + 6)[0])
    head = data.find(b"OpusHead")
    if head >= 0 and head + 12 <= len(data):
        pre_skip = int(struct.unpack_from("<H", data, head + 10)[0])
        return max(granule - pre_skip, 0) / 48_000
    vorbis = data.find(b"\x01vorbis")
    if vorbis >= 0 and vorbis + 16 <= len(data):
        rate = int(struct.unpack_from("<I", data, vorbis + 12)[0])
        return granule / rate if rate else None
    return None


def audio_duration(data: bytes) -> float | None:
    return wav_duration(data) or ogg_duration(data)


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    """A silent mono 16-bit PCM WAV of the given length (for tests and demos)."""
    frames = round(seconds * rate)
    pcm = b"\x00\x00" * frames
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(pcm)) + pcm
    return b"RIFF" + struct.pack("<I", len(body)) + body
