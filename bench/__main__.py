"""`make bench` / `python -m bench`: every benchmark, one after the other."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = ("bench.workforce", "bench.care", "bench.quality", "bench.rota")

if __name__ == "__main__":
    failed = [name for name in BENCHMARKS if subprocess.call([sys.executable, "-m", name]) != 0]  # noqa: S603
    sys.exit(1 if failed else 0)
