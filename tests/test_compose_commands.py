"""Every VoicePay service in compose.yaml runs a command, with options, that the CLI accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from voicepay.cli._app import app

COMPOSE = Path(__file__).parents[1] / "compose.yaml"


def _voicepay_services() -> dict[str, list[str]]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text("utf-8"))["services"]
    return {
        name: list(service["command"][1:])
        for name, service in services.items()
        if service.get("command", [None])[0] == "voicepay"
    }


def test_compose_runs_the_scheduler_and_the_webhook_receiver() -> None:
    assert {"agent", "console", "webhooks", "scheduler"} <= set(_voicepay_services())


@pytest.mark.parametrize(("service", "arguments"), sorted(_voicepay_services().items()))
def test_each_service_command_and_its_options_exist(service: str, arguments: list[str]) -> None:
    result = CliRunner().invoke(app, [*arguments, "--help"])
    assert result.exit_code == 0, f"{service}: {result.output}"
    missing = CliRunner().invoke(app, [*arguments, "--no-such-option"])
    assert missing.exit_code != 0
