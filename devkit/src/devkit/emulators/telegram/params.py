"""Bot API request parameters: query string, urlencoded or multipart form, or a JSON body.

Form values arrive as strings (aiogram JSON-encodes objects, numbers and booleans); a JSON
body arrives typed. `Params` reads either with the type the method expects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .state import bad_request


@dataclass(slots=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    data: bytes
    content_type: str | None


@dataclass(slots=True)
class Params:
    values: dict[str, Any] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.values or name in self.uploads

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def req_str(self, name: str) -> str:
        value = self.get_str(name)
        if value is None:
            raise bad_request(f"{name} is empty" if name != "text" else "message text is empty")
        return value

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        if isinstance(value, int):
            return value
        try:
            return int(str(value))
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def req_int(self, name: str) -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request(f"{name} is empty" if name != "chat_id" else "chat not found")
        return value

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1")

    def get_json(self, name: str) -> Any:
        value = self.values.get(name)
        if value is None or not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def to_record(self) -> dict[str, Any]:
        """A JSON-friendly copy for the call log (uploads summarised by size)."""
        out: dict[str, Any] = dict(self.values)
        for key, up in self.uploads.items():
            out[key] = {"filename": up.filename, "size": len(up.data)}
        return out
