"""docker/ is checked statically (no Docker here): the compose command runs CLI commands and
options that exist, and every MDS_ADAPTER_* variable it sets is a setting."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from adapter.cli import app
from adapter.config import Settings

DOCKER = Path(__file__).resolve().parents[2] / "docker"
DEFAULT_NAMES = {"MDS_ADAPTER_" + name.upper() for name in Settings.model_fields}


def test_every_variable_in_docker_files_is_a_setting() -> None:
    text = (DOCKER / "compose.yaml").read_text() + (DOCKER / "Dockerfile").read_text()
    used = set(re.findall(r"\bMDS_ADAPTER_[A-Z_]+\b", text))
    assert used and used <= DEFAULT_NAMES, sorted(used - DEFAULT_NAMES)


def test_the_compose_command_names_real_commands_and_options() -> None:
    compose = (DOCKER / "compose.yaml").read_text()
    command = re.search(r'command: \["sh", "-c", "(.*)"\]', compose)
    assert command is not None
    steps = [s.strip().removeprefix("exec ").split() for s in command[1].split("&&")]
    assert [s[:3] for s in steps] == [["mds-adapter", "db", "init"], ["mds-adapter", "serve",
                                                                       "--host"]]  # fmt: skip
    runner = CliRunner()
    for step in steps:
        words = [w for w in step[1:] if not w.startswith("--")]
        options = {w for w in step if w.startswith("--")}
        names = [w for w in words if not w.replace(".", "").isdigit()]
        result = runner.invoke(app, [*names, "--help"])
        assert result.exit_code == 0, result.output
        assert all(o in result.output for o in options), (options, result.output)


def test_the_dockerfile_runs_as_a_user_and_ships_the_data() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert re.search(r"^USER mds$", text, re.M)
    assert "COPY terminology ./terminology" in text and "COPY profiles ./profiles" in text
    assert 'CMD ["mds-adapter", "serve"]' in text
