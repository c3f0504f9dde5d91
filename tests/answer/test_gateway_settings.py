"""The model is chosen by settings; a missing setting is refused with the setting's name."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from core import Settings


def test_a_model_adapter_needs_a_model_name(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CLEARANCE_MODEL_NAME"):
        Settings(data_dir=tmp_path, model_adapter="openai", model_api_key=SecretStr("k"))


def test_anthropic_needs_a_key_and_openai_needs_one_unless_a_local_server(
        tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CLEARANCE_MODEL_API_KEY"):
        Settings(data_dir=tmp_path, model_adapter="anthropic", model_name="claude")
    with pytest.raises(ValidationError, match="CLEARANCE_MODEL_API_KEY"):
        Settings(data_dir=tmp_path, model_adapter="openai", model_name="gpt")
    local = Settings(data_dir=tmp_path, model_adapter="openai", model_name="llama",
                     model_base_url="http://127.0.0.1:8000/v1")
    assert local.model_api_key is None


def test_model_settings_come_from_the_environment(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARANCE_MODEL_ADAPTER", "anthropic")
    monkeypatch.setenv("CLEARANCE_MODEL_NAME", "claude-test")
    monkeypatch.setenv("CLEARANCE_MODEL_API_KEY", "sk-secret")
    monkeypatch.setenv("CLEARANCE_MODEL_TIMEOUT_S", "3.5")
    monkeypatch.setenv("CLEARANCE_ANSWER_DEADLINE_S", "8")
    settings = Settings(data_dir=tmp_path)
    assert (settings.model_adapter, settings.model_name) == ("anthropic", "claude-test")
    assert (settings.model_timeout_s, settings.answer_deadline_s) == (3.5, 8.0)
    assert "sk-secret" not in repr(settings)
