"""The API reference's own check (scripts/api_docs.py): every public name it documents has a
docstring. scripts/test.sh also renders the HTML and fails on pdoc's warnings."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "api_docs.py"


def load_script() -> object:
    spec = importlib.util.spec_from_file_location("api_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


API_DOCS = load_script()


@pytest.mark.parametrize("module", API_DOCS.MODULES)  # type: ignore[attr-defined]
def test_every_public_name_has_a_docstring(module: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert API_DOCS.undocumented(module) == []  # type: ignore[attr-defined]
    assert [str(w.message) for w in caught if w.category is UserWarning] == []  # pdoc's


def test_a_missing_docstring_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "undocumented_example.py").write_text(
        '"""A module."""\n\n__all__ = ["f", "g"]\n\n\ndef f() -> None:\n    """Documented."""\n\n\n'
        "def g() -> None:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert API_DOCS.undocumented("undocumented_example") == ["undocumented_example.g"]  # type: ignore[attr-defined]
