"""Score quantities on NewsQuant dev with the shared scorer (`make eval-quantities`).

Writes the gold sentences as seed files (the scorer's own `write`), runs the whole pipeline on
them (a real Dagster run), then scores the warehouse.

    python scripts/eval_quantities.py [--work /tmp/nq]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_pipeline import run

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gold", default=str(EVAL / "newsquant_dev.json"))
    parser.add_argument("--work", default="/tmp/nq")
    args = parser.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    scorer = str(EVAL / "score_quantities.py")
    subprocess.run([sys.executable, scorer, "write", args.gold, str(work / "seeds")], check=True)
    seconds = run(work / "seeds", work / "data", fresh=True)
    print(f"pipeline on {args.gold}: {seconds:.1f} s")
    warehouse = str(work / "data" / "warehouse.duckdb")
    subprocess.run([sys.executable, scorer, "score", args.gold, warehouse], check=True)


if __name__ == "__main__":
    main()
