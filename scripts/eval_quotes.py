"""Score quotes and speakers on PolNeAR dev with the shared scorer (`make eval-quotes`).

python scripts/eval_quotes.py [--split dev] [--data /tmp/polnear-dev]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_pipeline import run

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--data", default="/tmp/polnear-dev")
    args = parser.parse_args()
    gold = EVAL / "polnear" / args.split
    seconds = run(gold / "text", Path(args.data), fresh=True)
    print(f"pipeline on PolNeAR {args.split}: {seconds:.1f} s")
    subprocess.run(
        [
            sys.executable,
            str(EVAL / "score_attribution.py"),
            str(Path(args.data) / "warehouse.duckdb"),
            str(gold / "attributions"),
        ],
        check=True,
    )


if __name__ == "__main__":
    main()
