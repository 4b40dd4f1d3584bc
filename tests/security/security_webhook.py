"""The security tests' webhook client: posts updates to the gateway's webhook endpoint and
reads what the gateway wrote (``conftest.webhook`` serves it; a module of its own, so tests
import it by a name no other folder's conftest shadows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from events.catalog import TopicSpec, with_prefix
from events.codec import codec_for
from infra.endpoints import Endpoints
from infra.gateway.webhook import SECRET_HEADER
from infra.kafka.compat import BrokerProfile
from infra.kafka.topic_reader import TopicNotFound, read_topic_records

ADMIN = 9_400_001
WEBHOOK_SECRET = "security-suite-webhook-secret_0123456789"


@dataclass
class Webhook:
    """Posts updates to the gateway's webhook and reads what it wrote."""

    url: str
    stack: Endpoints
    profile: BrokerProfile
    prefix: str

    async def post(self, body: dict[str, Any], secret: str | None = WEBHOOK_SECRET) -> int:
        headers = {} if secret is None else {SECRET_HEADER: secret}
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url, json=body, headers=headers) as response,
        ):
            return response.status

    async def records(self, spec: TopicSpec[Any]) -> list[Any]:
        """Every record of the (prefixed) topic now, decoded."""
        name = with_prefix(spec, self.prefix).name
        codec = codec_for(spec)
        try:
            return [
                codec.decode(r.value)
                async for r in read_topic_records(self.stack.kafka_bootstrap, self.profile, name)
            ]
        except TopicNotFound:
            return []
