"""docker-compose.yml stays a deployable shape: every service it needs, health checks,
volumes, a pinned Qdrant new enough for the server store, and only real settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no types; no stubs pinned

from core import Settings

ROOT = Path(__file__).resolve().parents[1]
CLEARANCE_IMAGES = {"api", "worker-content", "worker-permissions", "beat"}


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_runs_api_workers_beat_and_the_stores() -> None:
    services = compose()["services"]
    assert set(services) >= CLEARANCE_IMAGES | {"postgres", "redis", "qdrant"}
    commands = {name: " ".join(services[name]["command"]) for name in CLEARANCE_IMAGES}
    assert "-Q permissions" in commands["worker-permissions"]
    assert "-Q fetch,embed" in commands["worker-content"]
    assert " beat " in commands["beat"] + " "


def test_every_long_running_service_has_a_health_check_and_state_has_volumes() -> None:
    data = compose()
    for name, service in data["services"].items():
        if name != "beat":
            assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    declared = set(data["volumes"])
    for name in ("postgres", "redis", "qdrant", "api"):
        mounts = data["services"][name]["volumes"]
        assert mounts and all(m.split(":")[0] in declared for m in mounts), name


def test_qdrant_is_the_official_image_pinned_at_1_19_or_later() -> None:
    image = compose()["services"]["qdrant"]["image"]
    match = re.fullmatch(r"qdrant/qdrant:v(\d+)\.(\d+)\.(\d+)", image)
    assert match, f"{image} is not a pinned official image"
    assert (int(match[1]), int(match[2])) >= (1, 19)


def test_every_clearance_variable_it_sets_is_a_real_setting() -> None:
    fields = set(Settings.model_fields)
    for name, service in compose()["services"].items():
        for key in (service.get("environment") or {}):
            if key.startswith("CLEARANCE_"):
                assert key.removeprefix("CLEARANCE_").lower() in fields, (name, key)
    env = compose()["services"]["api"]["environment"]
    assert env["CLEARANCE_TASK_QUEUE"] == "celery"
    assert env["CLEARANCE_QDRANT_URL"].startswith("http://qdrant:")


def test_clearance_services_wait_for_healthy_stores() -> None:
    services = compose()["services"]
    for name in CLEARANCE_IMAGES:
        depends = services[name]["depends_on"]
        assert {depends[s]["condition"] for s in ("postgres", "redis", "qdrant")} == {
            "service_healthy"}


def test_the_image_installs_the_pinned_cpu_torch_wheel() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"--index-url https://download\.pytorch\.org/whl/cpu torch==2\.13\.0",
                     dockerfile)
