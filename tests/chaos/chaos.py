"""Entry point of scripts/chaos: runs the named fault-injection scenarios, each on its own servers.

    chaos.py [kill|disk|stale|idempotency|clock|distributed|owners|badrows|cancel|all] [--short] [--seed N]

Each scenario prints a `chaos NAME: PASS|FAIL k=v ...` line and appends it as JSON to
build/chaos-results.jsonl (CHAOS_RESULTS overrides). Exit status 0 iff every scenario run passed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "api"), str(HERE.parent / "support")]  # api_support, services

SCENARIOS = ["kill", "idempotency", "stale", "disk", "clock", "distributed", "owners", "badrows", "cancel"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", nargs="?", default="all", choices=SCENARIOS + ["all"])
    parser.add_argument("--short", action="store_true", help="the quick version (scripts/test runs kill --short)")
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("CHAOS_SEED", "0")) or random.randrange(1, 10**6))
    args = parser.parse_args()
    names = SCENARIOS if args.scenario == "all" else [args.scenario]
    failed = []
    for name in names:
        print(f"== chaos {name}{' --short' if args.short else ''} (seed {args.seed})", flush=True)
        module = importlib.import_module(f"chaos_{name}")
        if not asyncio.run(module.run(args.short, args.seed)):
            failed.append(name)
    if failed:
        print(f"chaos: FAILED: {' '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
