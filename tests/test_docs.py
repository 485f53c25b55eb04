"""The README and docs tell the truth about the repository: every relative link and file path they
name exists, every `linksim ...` command they show parses, and the component reference is current."""
import pathlib
import re
import shlex

import pytest

from linksim.cli import build_parser
from linksim.output.reference import reference_markdown

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
TOP = ("scenarios/", "results/", "tests/", "benchmarks/", "linksim/", "phy/", "models/", "docs/")


def _outside_code(text):
    return re.sub(r"```.*?```", "", text, flags=re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_and_path_exists(page):
    text = page.read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not re.match(r"[a-z]+://", target):
            assert (page.parent / target).exists(), f"{page.name}: link {target} does not exist"
    for path in re.findall(r"`([A-Za-z0-9_./*{}-]+)`", text):
        if not path.startswith(TOP) or "{" in path or path.endswith((".h5",)):
            continue
        if "<" in path or path.startswith("results/") and path.endswith(".h5"):
            continue
        matches = list(ROOT.glob(path.rstrip("/"))) if "*" in path else [ROOT / path.rstrip("/")]
        assert any(m.exists() for m in matches), f"{page.name}: path {path} does not exist"


def _commands(text):
    """``(command, complete)`` of the `linksim ...` lines shown: in code blocks (complete command lines)
    and in inline code (mentions, which may leave out a required argument), without bracketed usage."""
    found = []
    for block in re.findall(r"```(?:bash)?\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("linksim "):
                found.append((line, True))
            found += [(part.strip(), True) for part in line.split("&&") if part.strip().startswith("linksim ")] if "&&" in line else []
    for inline in re.findall(r"`(linksim [^`]+)`", _outside_code(text)):
        if not re.search(r"[\[\]|…]|\.\.\.", inline):
            found.append((inline, False))
    return sorted(set(found))


def capsys_error(command) -> str:
    """argparse's one-line error for ``command``."""
    import contextlib
    import io

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.suppress(SystemExit):
        build_parser().parse_args(shlex.split(command)[1:])
    return stderr.getvalue().strip()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_shown_parses(page):
    for command, complete in _commands(page.read_text()):
        try:
            build_parser().parse_args(shlex.split(command)[1:])
        except SystemExit as exc:
            if exc.code == 0:  # --help, --version
                continue
            message = capsys_error(command)
            if not complete and "are required" in message:
                continue  # a mention of a command or an option in running text
            raise AssertionError(f"{page.name}: `{command}` does not parse: {message}") from exc


def test_the_component_reference_is_current():
    assert (ROOT / "docs" / "reference.md").read_text() == reference_markdown(), \
        "docs/reference.md is stale: regenerate it with `linksim list --markdown > docs/reference.md`"
