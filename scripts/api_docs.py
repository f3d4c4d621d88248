#!/usr/bin/env python3
"""Build the API reference (HTML, pdoc) and fail on any warning or undocumented public name.

The reference covers what a program drives: ``Card`` and its package, the issuer's operations,
the two readers (vpcd for pcscd, the in-process pyscard reader), a served card's control channel,
the served card's slot, the test kit and the ``apdu`` codec. pdoc renders Markdown docstrings;
the page lands in ``build/api/`` (not committed: ``scripts/test.sh`` rebuilds it on every run, CI
included).

Fails (exit 1, one line per problem) when pdoc warns (a module that does not import, an annotation
it cannot resolve, ...) or when a public module, class, function or method of these modules has no
docstring. Public: listed in ``__all__`` where a module has one, else not starting with ``_``;
re-exported names count (``apdu`` exports its submodules'); inherited
members are checked in their own class; dataclass fields and constants are not asked for one.

    .venv/bin/python scripts/api_docs.py [--out build/api]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODULES = (
    "card_emulator",
    "card_emulator.card",
    "card_emulator.issuer",
    "card_emulator.errors",
    "card_emulator.pin_names",
    "card_emulator.transport.vpcd",
    "card_emulator.transport.pyscard_reader",
    "card_emulator.transport.control",
    "card_emulator.slot",
    "card_emulator.testing",
    "apdu",
)


def resolve_lazy_names(module_name: str) -> None:
    """Import the names a package provides on first use (PEP 562 ``__getattr__``, as
    ``card_emulator`` does) so that pdoc, which reads the module's ``__dict__``, finds them."""
    import importlib

    module = importlib.import_module(module_name)
    for name in getattr(module, "__all__", ()):
        getattr(module, name)


def undocumented(module_name: str) -> list[str]:
    """The public names of ``module_name`` without a docstring, as ``module.Class.method``."""
    import pdoc.doc

    resolve_lazy_names(module_name)
    module = pdoc.doc.Module.from_name(module_name)
    missing = [] if module.docstring.strip() else [module_name]
    exported = getattr(module.obj, "__all__", None)

    def public(name: str, in_class: bool) -> bool:
        if in_class or exported is None:
            return not name.startswith("_")
        return name in exported

    def visit(members: dict[str, pdoc.doc.Doc[object]], in_class: bool) -> None:
        for name, member in members.items():
            if not public(name, in_class) or isinstance(member, pdoc.doc.Variable):
                continue
            if in_class and member.is_inherited:
                continue  # documented (and checked) in its own class
            if isinstance(member, pdoc.doc.Class):
                visit({m.name: m for m in member.own_members}, True)
            if not member.docstring.strip():
                missing.append(member.fullname)

    visit(module.members, False)
    return missing


def main() -> int:
    """Render the modules into ``--out``; 1 on any pdoc warning or missing docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "api")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))

    import pdoc
    import pdoc.render

    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in MODULES:
            resolve_lazy_names(name)
        pdoc.render.configure(docformat="markdown", show_source=True, search=True)
        pdoc.pdoc(*MODULES, output_directory=args.out)
        for name in MODULES:
            problems += [f"no docstring: {fullname}" for fullname in undocumented(name)]
    problems += [
        f"pdoc: {' '.join(str(w.message).split())}"
        for w in caught
        if issubclass(w.category, UserWarning)
    ]
    for problem in problems:
        print(f"api-docs: {problem}", file=sys.stderr)
    if problems:
        print(
            f"api-docs: {len(problems)} problem(s): document them (DEVELOPERS.md)", file=sys.stderr
        )
        return 1
    print(f"api-docs: wrote {args.out / 'index.html'} ({len(MODULES)} modules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
