"""The distribution ships exactly our packages, and imports point down the layers only."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE_FORBIDDEN = (
    "card_emulator.cli",
    "card_emulator.transport",
    "card_emulator.teaching",
    "card_emulator.testing",
    "card_emulator.web",
)


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
    upper = {"cli", "transport", "teaching", "testing", "web"}
    for path in (ROOT / "card_emulator").rglob("*.py"):
        if upper & set(path.relative_to(ROOT / "card_emulator").parts):
            continue
        for name in _imports(path):
            assert not name.startswith(CORE_FORBIDDEN), (path, name)


def test_the_test_kit_sits_above_the_transports_and_below_the_cli() -> None:
    """apdu → card → transport → testing → cli: the kit may use the pyscard reader, never the CLI;
    nothing under it imports the kit."""
    for path in (ROOT / "card_emulator" / "testing").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(
                ("card_emulator.cli", "card_emulator.teaching", "card_emulator.web")
            ), path
    for path in (ROOT / "card_emulator" / "transport").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(("card_emulator.testing", "card_emulator.cli")), path


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


def test_the_teaching_layer_does_not_import_the_cli_or_the_web_page() -> None:
    # The web page sits beside the CLI: both call the library, neither the other.
    for folder, forbidden in (("teaching", ("card_emulator.cli", "card_emulator.web")),
                              ("web", ("card_emulator.cli",))):  # fmt: skip
        for path in (ROOT / "card_emulator" / folder).rglob("*.py"):
            for name in _imports(path):
                assert not name.startswith(forbidden), (path, name)


def test_scenarios_and_the_page_ship_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = config["tool"]["setuptools"]["package-data"]
    assert "scenarios/*.toml" in data["card_emulator.teaching"]
    assert {"static/*.html", "static/*.js", "static/*.css"} <= set(data["card_emulator.web"])
    assert len(list((ROOT / "card_emulator" / "teaching" / "scenarios").glob("*.toml"))) >= 14
    for name in ("index.html", "app.js", "style.css"):
        assert (ROOT / "card_emulator" / "web" / "static" / name).is_file()


# --- the wheel: the test kit ships, and works without this repository ------------------------------


PIP = (sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built offline from this tree (setuptools and wheel: the test extra)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(out.glob("mynumber_card_emulator-*.whl"))


def test_the_wheel_ships_the_test_kit_and_its_pytest_plugin(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        text = archive.read(entry_points).decode()
    for module in ("__init__", "plugin", "factory", "personas", "strategies", "replay", "client"):
        assert f"card_emulator/testing/{module}.py" in names
    for module in ("trace", "recorder", "diagnosis", "faults", "slot"):
        assert f"card_emulator/{module}.py" in names
    assert "card_emulator/cli/trace_cmds.py" in names and "card_emulator/py.typed" in names
    assert "[pytest11]\nmynacard = card_emulator.testing.plugin" in text
    assert not any(n.startswith(("tests/", "examples/")) for n in names)


def test_a_fresh_venv_with_the_wheel_runs_a_mynacard_test(wheel: Path, tmp_path: Path) -> None:
    """No conftest, no source tree: the wheel's entry point brings the fixture. Dependencies come
    from this venv through a .pth line (offline); the project itself only from the wheel."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [*PIP, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    project = tmp_path / "user_project"
    project.mkdir()
    (project / "test_user.py").write_text(
        "import card_emulator\n"
        "from card_emulator import PinName\n"
        "from card_emulator.testing import query\n\n"
        "def test_it(mynacard):\n"
        f"    assert card_emulator.__file__.startswith({site!r})\n"
        "    assert query(mynacard, PinName.USER_AUTH) == 0x63C3\n"
    )
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
