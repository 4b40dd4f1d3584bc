"""What a turn can read from a user message: text, images, PDFs and text files.

Audio, video and stickers need tools (transcription, frames) that live in the tools issue;
until then they get a clear reply instead of silence. Telegram lets bots download files up
to 20 MB; larger ones are refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from events.messages import Attachment, UserMessage

MAX_DOWNLOAD_BYTES: Final = 20 * 1024 * 1024
MAX_IMAGE_BYTES: Final = 5 * 1024 * 1024
MAX_PDF_BYTES: Final = 20 * 1024 * 1024
MAX_TEXT_FILE_BYTES: Final = 1 * 1024 * 1024
IMAGE_TYPES: Final = ("image/jpeg", "image/png", "image/gif", "image/webp")
TEXT_TYPES: Final = (
    "text/",
    "application/json",
    "application/xml",
    "application/x-yaml",
    "application/javascript",
    "application/x-python",
)
TEXT_SUFFIXES: Final = (
    ".txt", ".md", ".py", ".js", ".ts", ".json", ".csv", ".yaml", ".yml", ".toml", ".xml",
    ".html", ".css", ".sql", ".sh", ".c", ".h", ".cpp", ".java", ".go", ".rs", ".rb", ".log",
)  # fmt: skip

InputKind: TypeAlias = Literal["image", "pdf", "text_file"]


@dataclass(frozen=True, slots=True)
class Readable:
    attachment: Attachment
    kind: InputKind


@dataclass(frozen=True, slots=True)
class Unreadable:
    attachment: Attachment
    reason: str


def classify_attachment(att: Attachment) -> Readable | Unreadable:
    size = att.file_size or 0
    name = (att.file_name or "").lower()
    mime = (att.mime_type or "").lower()
    label = att.file_name or att.kind
    if size > MAX_DOWNLOAD_BYTES:
        return Unreadable(att, f"{label} is {size // (1024 * 1024)} MB; the limit is 20 MB")
    if att.kind == "photo" or (att.kind == "document" and mime in IMAGE_TYPES):
        if size > MAX_IMAGE_BYTES:
            return Unreadable(att, f"the image {label} is over 5 MB")
        return Readable(att, "image")
    if att.kind == "document" and (mime == "application/pdf" or name.endswith(".pdf")):
        return Readable(att, "pdf")
    if att.kind == "document" and (mime.startswith(TEXT_TYPES) or name.endswith(TEXT_SUFFIXES)):
        if size > MAX_TEXT_FILE_BYTES:
            return Unreadable(att, f"the text file {label} is over 1 MB")
        return Readable(att, "text_file")
    what = {
        "voice": "voice messages",
        "audio": "audio files",
        "video": "videos",
        "video_note": "video messages",
        "animation": "animations",
        "sticker": "stickers",
    }.get(att.kind, f"{mime or 'this kind of'} files")
    return Unreadable(att, f"I can't read {what} yet")


@dataclass(frozen=True, slots=True)
class MessageContent:
    readable: tuple[Readable, ...]
    unreadable: tuple[Unreadable, ...]
    has_text: bool

    @property
    def usable(self) -> bool:
        return self.has_text or bool(self.readable)


def classify_message(message: UserMessage) -> MessageContent:
    readable: list[Readable] = []
    unreadable: list[Unreadable] = []
    for att in message.attachments:
        verdict = classify_attachment(att)
        if isinstance(verdict, Readable):
            readable.append(verdict)
        else:
            unreadable.append(verdict)
    return MessageContent(tuple(readable), tuple(unreadable), bool(message.text.strip()))
