"""Write the golden transcripts from the card (run after an intended change, then review the diff)."""

from __future__ import annotations

from pathlib import Path

from card_emulator.testing import new_card
from tests.golden.flows import FLOWS, SEED
from tests.golden.replay import run_flow

HERE = Path(__file__).parent


def main(names: list[str] | None = None) -> None:
    for name in names or FLOWS:
        card = new_card(seed=SEED)
        lines = [f"# {name}: seed {SEED}; PIN data is redacted"]
        for command, response in run_flow(card, name):
            lines.append(f"> {command}")
            lines.append(f"< {response}")
        (HERE / f"{name}.txt").write_text("\n".join(lines) + "\n")
        print(f"wrote {name}.txt")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
