"""CLEARANCE_SERVER_TIMING: where a search's time goes, as a header — and nothing else."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.api.conftest import Api

STEPS = ("auth", "entitlements", "queue", "embed", "engine", "recheck", "rerank", "snippet",
         "audit", "http", "app")


def _timings(header: str) -> dict[str, float]:
    return {name: float(ms) for name, ms in re.findall(r"(\w+);dur=([\d.]+)", header)}


def test_search_reports_each_step_when_timing_is_on(make_api: Callable[..., Api]) -> None:
    api = make_api(server_timing=True)
    source = api.source()
    api.put_doc(source, "a", "The expense limit for hotels is 180 euros.", allow=["everyone"])
    response = api.call("POST", "/v1/search", as_user="ann@corp.test", json={"query": "hotel limit"})
    assert response.status_code == 200
    timings = _timings(response.headers["server-timing"])
    assert set(STEPS) <= set(timings)
    assert timings["app"] >= sum(v for k, v in timings.items() if k not in ("app", "http")) - 0.1


def test_no_header_unless_asked_for(api: Api) -> None:
    source = api.source()
    api.put_doc(source, "a", "The expense limit for hotels is 180 euros.", allow=["everyone"])
    response = api.call("POST", "/v1/search", as_user="ann@corp.test", json={"query": "hotel limit"})
    assert response.status_code == 200
    assert "server-timing" not in response.headers


def test_the_header_carries_durations_only(make_api: Callable[..., Api]) -> None:
    """A caller without access learns nothing of a restricted document from the header."""
    api = make_api(server_timing=True)
    source = api.source()
    api.put_doc(source, "secret", "Project QX7731Z acquires Contoso for 40 million.",
                allow=["group:board"], title="Board minutes")
    response = api.call("POST", "/v1/search", as_user="eve@corp.test",
                        json={"query": "QX7731Z Contoso acquisition"})
    assert response.status_code == 200
    assert response.json()["hits"] == []
    header = response.headers["server-timing"]
    assert re.fullmatch(r"(\w+;dur=[\d.]+)(, \w+;dur=[\d.]+)*", header)
    assert not re.search(r"qx7731z|contoso|board|secret", header, re.IGNORECASE)
