"""docker-compose.yml is consistent: images, commands, settings, volumes, secrets, health."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.cli.main import build_parser
from infra.settings import ENV_NAMES, SECRET_NAMES

ROOT = Path(__file__).resolve().parents[2]
BOT_SERVICES = {
    "gateway",
    "users-worker",
    "thread-worker",
    "billing-worker",
    "payments",
    "projector",
    "broadcaster",
}
INFRA_SERVICES = {"kafka", "postgres", "redis", "kafka-ui", "prometheus", "grafana"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_topology_has_every_part(compose: dict[str, Any]) -> None:
    """Kafka (KRaft), Postgres, Redis, Kafka UI, Prometheus, Grafana and the bot services."""
    assert set(compose["services"]) >= INFRA_SERVICES | BOT_SERVICES
    kafka = compose["services"]["kafka"]["environment"]
    assert "controller" in kafka["KAFKA_PROCESS_ROLES"]
    assert "ZOOKEEPER_CONNECT" not in str(kafka)
    ui = compose["services"]["kafka-ui"]["environment"]
    assert ui["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"] == "kafka:9092"


def test_kafka_ui_is_read_only_and_bound_to_loopback(compose: dict[str, Any]) -> None:
    """The Kafka UI cannot produce to a topic (a write path around every check) and is not
    published on the host's public interfaces."""
    ui = compose["services"]["kafka-ui"]
    assert str(ui["environment"]["KAFKA_CLUSTERS_0_READONLY"]).lower() == "true"
    for port in ui["ports"]:
        assert str(port).startswith("127.0.0.1:"), port


def test_the_billing_worker_is_told_who_is_privileged(compose: dict[str, Any]) -> None:
    """The ledger checks admin ids itself: the billing worker gets PRIVILEGED_USER_IDS."""
    assert "PRIVILEGED_USER_IDS" in compose["services"]["billing-worker"]["environment"]


def test_every_service_has_an_image_or_a_build(compose: dict[str, Any]) -> None:
    """No service lacks something to run; bot services build from the repo's Dockerfile."""
    for name, service in compose["services"].items():
        assert "image" in service or "build" in service, name
        if name in BOT_SERVICES:
            assert service["build"] == "."
    assert (ROOT / "Dockerfile").is_file()


def test_bot_commands_are_real_botctl_entry_points(compose: dict[str, Any]) -> None:
    """Each bot container's command parses as a botctl command."""
    parser = build_parser()
    for name, service in compose["services"].items():
        if service.get("build") == ".":
            args = parser.parse_args(service["command"])
            assert callable(args.handler), name
    entry = re.search(r'ENTRYPOINT \["botctl"\]', (ROOT / "Dockerfile").read_text())
    assert entry


def test_environment_names_exist_in_settings(compose: dict[str, Any]) -> None:
    """Every variable given to a bot service is one the settings read (or its _FILE form)."""
    for name, service in compose["services"].items():
        if service.get("build") != ".":
            continue
        for var in service["environment"]:
            base = var.removesuffix("_FILE")
            assert base in ENV_NAMES, f"{name}: {var} is not a setting"
            if var.endswith("_FILE"):
                assert base in SECRET_NAMES, f"{name}: {var} is not a secret"
                secret = service["environment"][var].removeprefix("/run/secrets/")
                assert secret in service["secrets"], f"{name}: {secret} not mounted"


def test_volumes_and_secrets_are_declared(compose: dict[str, Any]) -> None:
    """Named volumes and secrets used by services are declared at the top level."""
    declared_volumes = set(compose.get("volumes", {}))
    declared_secrets = set(compose.get("secrets", {}))
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: {source} missing"
            else:
                assert source in declared_volumes, f"{name}: volume {source}"
        for secret in service.get("secrets", []):
            assert secret in declared_secrets, f"{name}: secret {secret}"


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    """Every service that stays up has a healthcheck; one-shot jobs disable it."""
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        if service.get("restart") == "no":
            assert check == {"disable": True}
        else:
            assert check.get("test"), name
    for name in BOT_SERVICES:
        depends = compose["services"][name]["depends_on"]
        assert all(depends[d]["condition"] == "service_healthy" for d in depends)


def test_bot_services_are_healthy_only_when_ready(compose: dict[str, Any]) -> None:
    """Each bot service's healthcheck asks /readyz on its own METRICS_PORT (connected to its
    dependencies, partitions assigned), not /healthz (merely alive)."""
    for name in BOT_SERVICES:
        service = compose["services"][name]
        port = service["environment"]["METRICS_PORT"]
        probe = " ".join(service["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/readyz" in probe, (name, probe)
        assert "/healthz" not in probe, name
