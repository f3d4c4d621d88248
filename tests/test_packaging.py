"""The distribution ships exactly our packages, and imports point down the layers only."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE_FORBIDDEN = ("card_emulator.cli", "card_emulator.transport", "card_emulator.teaching")


def _packages_on_disk() -> set[str]:
    found = set()
    for top in ("apdu", "card_emulator"):
        for init in (ROOT / top).rglob("__init__.py"):
            if "__pycache__" not in init.parts:
                found.add(".".join(init.parent.relative_to(ROOT).parts))
    return found


def test_pyproject_lists_every_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert set(config["tool"]["setuptools"]["packages"]) == _packages_on_disk()
    assert (ROOT / "apdu" / "py.typed").exists() and (ROOT / "card_emulator" / "py.typed").exists()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_apdu_imports_nothing_of_ours() -> None:
    for path in (ROOT / "apdu").rglob("*.py"):
        assert not any(n.split(".")[0] == "card_emulator" for n in _imports(path)), path


def test_the_card_does_not_import_the_layers_above_it() -> None:
    upper = {"cli", "transport", "teaching"}
    for path in (ROOT / "card_emulator").rglob("*.py"):
        if upper & set(path.relative_to(ROOT / "card_emulator").parts):
            continue
        for name in _imports(path):
            assert not name.startswith(CORE_FORBIDDEN), (path, name)


def test_the_readme_python_quick_start_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, "README.md", "exec"), {})


def test_the_readme_pin_table_agrees_with_the_rules() -> None:
    from card_emulator.rules import APP_AIDS, PIN_SPECS

    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Applications and PINs", 1)[1].split("\n\n", 2)[1]
    rows = [row for row in table.splitlines() if row.startswith("|")][2:]
    app_of_row, app = [], ""
    for row in rows:  # an application's first row names its AID; the rows below leave it blank
        aid = row.strip("|").split("|")[1].strip().strip("`")
        app = aid or app
        app_of_row.append(app)
    for spec in PIN_SPECS.values():
        aid = APP_AIDS[spec.app].hex().upper()
        row = next(
            r for r, a in zip(rows, app_of_row, strict=True)
            if a == aid and f"(`{spec.fid:04X}`)" in r
        )  # fmt: skip
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[4] == str(spec.max_tries), spec.name
    for aid in APP_AIDS.values():
        assert f"`{aid.hex().upper()}`" in table
