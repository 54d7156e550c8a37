#!/usr/bin/env python3
"""Fuzz campaign: runs every libFuzzer target of the fuzz build for longer than CI does.

Each target starts from its committed seeds plus what earlier campaigns found (kept in
build-fuzz/fuzz-campaign/<target>/, so the corpus keeps growing from run to run) and runs for
SECONDS (default 600). Prints one line per target: executions, executions per second, coverage
(libFuzzer's `cov` edges and `ft` features) and corpus size, then `campaign: N targets, M
failed`. A crash, leak or property failure keeps its reproducer beside the corpus and fails the
campaign.

Usage: scripts/fuzz-campaign.sh [SECONDS] [--jobs N] [--only SUBSTRING]
Needs the fuzz build (`cmake --preset fuzz && cmake --build --preset fuzz`).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build-fuzz"


def targets() -> list[tuple[str, str, str]]:
    """(name, executable, seed corpus) of every ctest fuzz entry, read from ctest's own listing."""
    out = subprocess.check_output(["ctest", "--test-dir", str(BUILD), "-L", "fuzz", "--show-only=json-v1"], text=True)
    found = []
    for t in json.loads(out)["tests"]:
        script = t["command"][-1]
        m = re.search(r"exec '([^']+)' .* '([^']+)' '([^']+)'$", script)
        if not m:
            sys.exit(f"fuzz-campaign: cannot read the command of {t['name']}: {script}")
        found.append((t["name"], m.group(1), m.group(3)))
    return found


def run_one(name: str, exe: str, seeds: str, seconds: int) -> dict:
    work = BUILD / "fuzz-campaign" / name
    work.mkdir(parents=True, exist_ok=True)
    log = work.parent / f"{name}.log"
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1", UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    started = time.monotonic()
    with log.open("w") as out:
        rc = subprocess.run([exe, f"-max_total_time={seconds}", "-rss_limit_mb=2048", "-timeout=10",
                             "-print_final_stats=1", f"-artifact_prefix={work.parent}/{name}-", str(work), seeds],
                            stdout=out, stderr=subprocess.STDOUT, env=env).returncode
    text = log.read_text(errors="replace")
    stat = lambda key: int(m.group(1)) if (m := re.search(rf"stat::{key}:\s+(\d+)", text)) else 0
    last = re.findall(r"cov: (\d+) ft: (\d+)", text)
    return {
        "name": name, "ok": rc == 0, "seconds": time.monotonic() - started,
        "execs": stat("number_of_executed_units"), "per_second": stat("average_exec_per_sec"),
        "cov": int(last[-1][0]) if last else 0, "ft": int(last[-1][1]) if last else 0,
        "corpus": sum(1 for _ in work.iterdir()), "log": log,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("seconds", nargs="?", type=int, default=600)
    ap.add_argument("--jobs", type=int, default=1, help="targets run at once (each uses one core)")
    ap.add_argument("--only", default="", help="run only targets whose name contains this")
    args = ap.parse_args()
    if not (BUILD / "CTestTestfile.cmake").exists():
        sys.exit("fuzz-campaign: no fuzz build; run `cmake --preset fuzz && cmake --build --preset fuzz` first")
    chosen = [t for t in targets() if args.only in t[0]]
    print(f"campaign: {len(chosen)} targets, {args.seconds} s each, {args.jobs} at a time", flush=True)
    print(f"{'target':36} {'executions':>12} {'exec/s':>8} {'cov':>6} {'ft':>7} {'corpus':>7}")
    failed = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for r in pool.map(lambda t: run_one(*t, args.seconds), chosen):
            failed += 0 if r["ok"] else 1
            verdict = "" if r["ok"] else f"  FAILED (see {r['log']})"
            print(f"{r['name']:36} {r['execs']:>12} {r['per_second']:>8} {r['cov']:>6} {r['ft']:>7} {r['corpus']:>7}{verdict}",
                  flush=True)
    print(f"campaign: {len(chosen)} targets, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
