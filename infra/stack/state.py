"""What the embedded stack records of its services (``<state_dir>/stack.json``) and reports."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Final

from infra.stack.processes import ProcessRecord

HOST: Final = "127.0.0.1"
"""The loopback address every embedded service listens on."""
STATE_FILE: Final = "stack.json"


class StackError(Exception):
    """The embedded stack could not be started or inspected; the message says why."""


@dataclass(slots=True)
class ServiceState:
    name: str
    url: str
    process: ProcessRecord
    data_dir: str | None = None
    version: str = ""


@dataclass(slots=True)
class StackState:
    services: dict[str, ServiceState] = field(default_factory=dict)

    @property
    def kafka_bootstrap(self) -> str:
        return self.services["kafka"].url

    @property
    def database_url(self) -> str:
        return self.services["postgres"].url

    @property
    def redis_url(self) -> str:
        return self.services["redis"].url

    def to_json(self) -> str:
        return json.dumps({k: asdict(v) for k, v in self.services.items()}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> StackState:
        raw = json.loads(text)
        return cls(
            {
                name: ServiceState(
                    name=item["name"],
                    url=item["url"],
                    process=ProcessRecord(**item["process"]),
                    data_dir=item.get("data_dir"),
                    version=item.get("version", ""),
                )
                for name, item in raw.items()
            }
        )


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    name: str
    url: str
    pid: int
    running: bool
    healthy: bool
    detail: str
    version: str = ""
