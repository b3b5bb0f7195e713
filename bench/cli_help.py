"""How long `feedbackbot --help` takes, as an operator waits for it.

Run: .venv/bin/python -m bench.cli_help [--runs 10]
Each run starts a fresh interpreter (`python -m bot --help`, then `python -m bot export --help`)
and times it from start to exit; the figures are the median and the fastest run. The import of
`bot.cli` alone is timed too, in a fresh interpreter each run, since that is what lazy imports
keep small. The load average is printed: on a busy machine every figure is slower.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = (["--help"], ["export", "--help"])
IMPORT_ONLY = (
    "import time; t = time.perf_counter(); import bot.cli; print(time.perf_counter() - t)"
)


def wall_seconds(arguments: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", *arguments], check=True, capture_output=True)
    return time.perf_counter() - started


def import_seconds() -> float:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ONLY], check=True, capture_output=True, text=True
    )
    return float(done.stdout)


def report(label: str, samples: list[float]) -> None:
    print(f"{label:<28} median {statistics.median(samples):.3f} s, fastest {min(samples):.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores, {runs} runs each")
    for arguments in COMMANDS:
        report(
            f"feedbackbot {' '.join(arguments)}", [wall_seconds(arguments) for _ in range(runs)]
        )
    report("import bot.cli", [import_seconds() for _ in range(runs)])


if __name__ == "__main__":
    main()
