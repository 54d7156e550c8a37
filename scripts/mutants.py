#!/usr/bin/env python3
"""Guard mutants: disables each security guard the docs promise, in turn, and checks that a test fails.

The guards are listed in `mutants.txt` files next to the code they name (one per folder). Each
entry is a block of `key: value` lines, blocks separated by a blank line:

    guard:   owner-check
    promise: docs/service-node.md: only a mailbox's owner may read it, delete from it or change it
    file:    src/owner_auth.cpp                 (relative to the folder of the mutants.txt)
    find:    return owns_mailbox(v.auth->owner, *v.mailbox) &&
    replace: return true &&                     (optional: without it, `find` is removed)
    tests:   veil_proto_owner_auth_tests        (ctest names; one of them must fail)

`find` must occur exactly once in its file, so a guard that moves or changes is reported, never
silently skipped. The work is done in a scratch copy of the tracked files (default
/tmp/veil-mutants); the checkout is never modified.

Usage: scripts/mutants.sh [--only NAME]... [--list] [--scratch DIR]
Prints one line per guard and `mutants: N caught, M survived`; exits 1 if a mutant survived or
2 if the list or the baseline is broken.
"""
import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

KEYS = ("guard", "promise", "file", "find", "replace", "tests")


def repo_root() -> Path:
    return Path(subprocess.check_output(["git", "rev-parse", "--show-toplevel"], text=True).strip())


def tracked_files(root: Path) -> list[str]:
    out = subprocess.check_output(["git", "-C", str(root), "ls-files", "-z"])
    return [f for f in out.decode().split("\0") if f]


def parse_lists(root: Path, files: list[str]) -> list[dict]:
    guards = []
    for rel in sorted(f for f in files if f.endswith("mutants.txt")):
        folder = Path(rel).parent
        text = (root / rel).read_text()
        for n, block in enumerate(text.split("\n\n")):
            entry = {}
            for line in block.splitlines():
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                key, sep, value = line.partition(":")
                if not sep or key.strip() not in KEYS:
                    sys.exit(f"mutants: {rel}: block {n + 1}: not a `key: value` line: {line!r}")
                entry[key.strip()] = value.strip()
            if not entry:
                continue
            missing = [k for k in KEYS if k != "replace" and k not in entry]
            if missing:
                sys.exit(f"mutants: {rel}: guard {entry.get('guard', '?')}: missing {', '.join(missing)}")
            entry["path"] = str(folder / entry["file"])
            entry["list"] = rel
            entry.setdefault("replace", "")
            guards.append(entry)
    names = [g["guard"] for g in guards]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        sys.exit(f"mutants: guard names used twice: {', '.join(sorted(dupes))}")
    return guards


def check_anchors(root: Path, guards: list[dict]) -> None:
    stale = []
    for g in guards:
        path = root / g["path"]
        count = path.read_text().count(g["find"]) if path.exists() else 0
        if count != 1:
            stale.append(f"  {g['guard']} ({g['list']}): `{g['find']}` found {count} times in {g['path']}")
    if stale:
        sys.exit("mutants: these guards no longer match their code (update the mutants.txt):\n" + "\n".join(stale))


def sync_scratch(root: Path, src: Path, files: list[str]) -> None:
    # Copies only what differs, so the scratch build stays incremental between runs.
    for rel in files:
        a, b = root / rel, src / rel
        if a.is_symlink() or not a.is_file():
            continue
        if b.exists() and filecmp.cmp(a, b, shallow=False):
            continue
        b.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(a, b)


def run(cmd: list[str], cwd: Path, log: Path) -> bool:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        return subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT).returncode == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], help="run only this guard (repeatable)")
    ap.add_argument("--list", action="store_true", help="print the guards and exit")
    ap.add_argument("--scratch", default=os.environ.get("VEIL_MUTANTS_DIR", "/tmp/veil-mutants"))
    args = ap.parse_args()

    root = repo_root()
    files = tracked_files(root)
    guards = parse_lists(root, files)
    check_anchors(root, guards)
    if args.only:
        unknown = set(args.only) - {g["guard"] for g in guards}
        if unknown:
            sys.exit(f"mutants: no such guard: {', '.join(sorted(unknown))}")
        guards = [g for g in guards if g["guard"] in args.only]
    if args.list:
        for g in guards:
            print(f"{g['guard']:28} {g['path']}  [{g['tests']}]\n{'':28} {g['promise']}")
        print(f"{len(guards)} guards")
        return 0

    scratch = Path(args.scratch)
    src, build, log = scratch / "src", scratch / "src" / "build", scratch / "mutants.log"
    src.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    sync_scratch(root, src, files)
    configure = ["cmake", "--preset", "werror", "-DCMAKE_LINK_DEPENDS_NO_SHARED=ON"]
    if shutil.which("ccache"):
        configure += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", "-DCMAKE_C_COMPILER_LAUNCHER=ccache"]
    jobs = str(os.cpu_count() or 2)
    ninja = ["cmake", "--build", str(build), "-j", jobs]

    def tests_pass(names: str) -> bool:
        pattern = "^(" + "|".join(names.split()) + ")$"
        return run(["ctest", "--test-dir", str(build), "-R", pattern, "-j", jobs, "--timeout", "900"], src, log)

    print(f"mutants: building the scratch copy in {scratch} (log: {log})", flush=True)
    if not run(configure, src, log) or not run(ninja, src, log):
        print("mutants: the unchanged scratch copy does not build; see the log", file=sys.stderr)
        return 2
    all_tests = " ".join(sorted({t for g in guards for t in g["tests"].split()}))
    if not tests_pass(all_tests):
        print(f"mutants: the tests fail without any mutant ({all_tests}); see the log", file=sys.stderr)
        return 2

    caught, survived, broken = [], [], []
    for g in guards:
        path = src / g["path"]
        original = path.read_text()
        path.write_text(original.replace(g["find"], g["replace"], 1))
        started = time.monotonic()
        try:
            if not run(ninja, src, log):
                verdict, bucket = "DOES NOT BUILD", broken
            elif tests_pass(g["tests"]):
                verdict, bucket = "SURVIVED", survived
            else:
                verdict, bucket = "caught", caught
        finally:
            path.write_text(original)
        bucket.append(g["guard"])
        print(f"  {verdict:14} {g['guard']:28} {time.monotonic() - started:6.0f} s  {g['promise']}", flush=True)

    run(ninja, src, log)  # leave the scratch build matching the checkout
    print(f"mutants: {len(caught)} caught, {len(survived)} survived"
          + (f", {len(broken)} do not build" if broken else ""))
    if broken:
        print("mutants that do not build test nothing; fix their find/replace: " + ", ".join(broken))
        return 2
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
