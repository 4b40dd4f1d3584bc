"""What a turn can read from a user message, and the limits a file must meet.

Every kind a user sends is accepted within its limits: images (JPEG, PNG, GIF, WebP as they
are; HEIC/HEIF, BMP and TIFF converted to JPEG/PNG on intake), PDFs, text and code files
(counted against the context window), voice messages and video notes (transcribed before the
turn), audio, video, and other documents such as office files and archives (stored for the
tools and the code sandbox). Telegram lets bots download files up to 20 MB; larger ones, a
text file over 1 MB and program files (``.exe``...) are refused with the reason, and the
rest of the message is answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from actors.texts import Language, say
from events.messages import Attachment, UserMessage

MAX_DOWNLOAD_BYTES: Final = 20 * 1024 * 1024
MAX_IMAGE_BYTES: Final = 5 * 1024 * 1024
"""The Messages API's limit for one image; larger images are re-encoded smaller on intake."""
MAX_PDF_BYTES: Final = 20 * 1024 * 1024
MAX_TEXT_FILE_BYTES: Final = 1 * 1024 * 1024
IMAGE_TYPES: Final = ("image/jpeg", "image/png", "image/gif", "image/webp")
CONVERTED_IMAGE_TYPES: Final = (
    "image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence", "image/bmp",
    "image/x-ms-bmp", "image/tiff",
)  # fmt: skip
"""Image types Claude cannot read: converted to JPEG (photos) or PNG (with transparency)."""
IMAGE_SUFFIXES: Final = (
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".bmp", ".tif", ".tiff",
)  # fmt: skip
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
PROGRAM_SUFFIXES: Final = (
    ".exe", ".dll", ".msi", ".com", ".scr", ".bat", ".cmd", ".apk", ".app", ".dmg", ".pif",
)  # fmt: skip
"""Program files are refused: nothing here runs or reads them, and they are a common lure."""

InputKind: TypeAlias = Literal["image", "pdf", "text_file", "voice", "audio", "video", "document"]
"""``voice``: voice messages and video notes (transcribed); ``document``: office files,
archives and anything else (stored and listed for the tools)."""
MODEL_READABLE: Final = ("image", "pdf", "text_file")
"""Kinds the model reads directly (as Files API references)."""


@dataclass(frozen=True, slots=True)
class Readable:
    attachment: Attachment
    kind: InputKind


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An attachment the model cannot be given: ``reason`` in English (recorded in
    ``thread.user_message_rejected``), :meth:`text` worded for the user."""

    attachment: Attachment
    reason: str
    key: str = ""
    """The reason's text key (``unreadable.<what>``); its values are ``label`` and ``size``."""
    label: str = ""
    size_mb: int = 0

    def text(self, language: Language) -> str:
        if not self.key:
            return self.reason
        return say(language, self.key, label=self.label, size=self.size_mb)


def is_image(att: Attachment) -> bool:
    mime = (att.mime_type or "").lower()
    name = (att.file_name or "").lower()
    if att.kind == "photo":
        return True
    if att.kind != "document":
        return False
    if mime in IMAGE_TYPES or mime in CONVERTED_IMAGE_TYPES:
        return True
    return (not mime or mime == "application/octet-stream") and name.endswith(IMAGE_SUFFIXES)


def classify_attachment(att: Attachment) -> Readable | Unreadable:
    size = att.file_size or 0
    name = (att.file_name or "").lower()
    mime = (att.mime_type or "").lower()
    label = att.file_name or att.kind.replace("_", " ")
    if size > MAX_DOWNLOAD_BYTES:
        mb = size // (1024 * 1024)
        return Unreadable(
            att, f"{label} is {mb} MB; the limit is 20 MB", "unreadable.too_large", label, mb
        )
    if is_image(att):
        return Readable(att, "image")
    if att.kind == "document" and (mime == "application/pdf" or name.endswith(".pdf")):
        return Readable(att, "pdf")
    if att.kind == "document" and (mime.startswith(TEXT_TYPES) or name.endswith(TEXT_SUFFIXES)):
        if size > MAX_TEXT_FILE_BYTES:
            return Unreadable(
                att, f"the text file {label} is over 1 MB", "unreadable.text_too_large", label
            )
        return Readable(att, "text_file")
    if att.kind in ("voice", "video_note"):
        return Readable(att, "voice")
    if att.kind == "audio":
        return Readable(att, "audio")
    if att.kind in ("video", "animation"):
        return Readable(att, "video")
    if att.kind == "sticker":
        return Unreadable(att, "I can't read stickers", "unreadable.sticker")
    if name.endswith(PROGRAM_SUFFIXES) or mime in (
        "application/x-msdownload",
        "application/x-dosexec",
        "application/vnd.android.package-archive",
    ):
        return Unreadable(
            att, f"I don't accept program files ({label})", "unreadable.program", label
        )
    return Readable(att, "document")


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
