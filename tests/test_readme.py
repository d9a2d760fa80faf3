"""The README's two set-up commands are the ones CI and users run."""

import re

from pipelines.settings import PROJECT_ROOT


def _commands() -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_first_screen_has_exactly_two_setup_commands():
    commands = _commands()
    assert len(commands) == 2
    assert commands[0].endswith("outcomes demo")


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (PROJECT_ROOT / ".ci" / "run").read_text().splitlines()
    assert _commands()[1] in ci
