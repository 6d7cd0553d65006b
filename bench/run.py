#!/usr/bin/env python3
"""Benchmark impala-awards against the cp -r floor and Hugo on the same synthetic archive.

Usage: python3 bench/run.py [--sizes 1000,10000,100000] [--bin target/release/impala-awards]

For each size it generates the archive (and an equivalent Hugo site) with the
hidden `gen` subcommand, then measures in one run: a full build, a rebuild with
no change, a rebuild after editing one record, `check` alone, `cp -r` of the
output (the floor) and `hugo` building the equivalent site. Wall time, CPU time
(user+sys of the child) and peak RSS come from the child's rusage. Prints a
Markdown table with ratios, for BENCHMARKS.md.
"""
import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time


def run(cmd, env=None, cwd=None):
    """Runs cmd; returns (wall s, cpu s, peak rss MiB, stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss is the max over all children so far: measure each in a fresh process group instead.
    return wall, cpu, p.stderr


def peak_rss(cmd, env=None):
    """Peak RSS (MiB) of one run of cmd, read from /usr/bin/time-free wait4."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execvpe(cmd[0], cmd, env or os.environ)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(cmd)}")
    return usage.ru_maxrss / 1024


def count_files(d, suffix=".html"):
    n = 0
    for _, _, files in os.walk(d):
        n += sum(1 for f in files if f.endswith(suffix))
    return n


def best(f, reps):
    """Best wall of `reps` runs (and its cpu) — the usual way to damp noise."""
    runs = [f() for _ in range(reps)]
    return min(runs, key=lambda r: r[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--bin", default="target/release/impala-awards")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the generated trees")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    hugo = shutil.which("hugo")
    env = dict(os.environ, SOURCE_DATE_EPOCH="1790000000")
    work = tempfile.mkdtemp(prefix="impala-bench-")
    rows = []
    for n in [int(s) for s in a.sizes.split(",")]:
        site, hsite = os.path.join(work, f"site-{n}"), os.path.join(work, f"hugo-{n}")
        out, hout, cout = os.path.join(work, f"out-{n}"), os.path.join(work, f"hugo-out-{n}"), os.path.join(work, f"copy-{n}")
        subprocess.run([binary, "gen", site, "--releases", str(n), "--seed", "7", "--hugo", hsite], env=env, check=True,
                       stderr=subprocess.DEVNULL)
        reps = a.reps if n < 100000 else 1

        def full():
            # A cold build: no previous output, buffer or search cache.
            for d in (out, os.path.join(work, f".out-{n}.prev")):
                shutil.rmtree(d, ignore_errors=True)
            if os.path.exists(os.path.join(work, f".out-{n}.search-cache")):
                os.remove(os.path.join(work, f".out-{n}.search-cache"))
            return run([binary, "build", "--root", site, "--output", out], env=env)
        w_full, c_full, err = best(full, reps)
        m = re.search(r"built (\d+) pages", err)
        pages = int(m.group(1)) if m else count_files(out)
        rss_full = peak_rss([binary, "build", "--root", site, "--output", out + "-rss"], env)
        shutil.rmtree(out + "-rss", ignore_errors=True)
        w_noop, c_noop, _ = best(lambda: run([binary, "build", "--root", site, "--output", out], env=env), reps)
        # Edit one record: change the title of the first release file found.
        rel = None
        for root, _, files in os.walk(os.path.join(site, "content", "releases")):
            for f in sorted(files):
                rel = os.path.join(root, f)
                break
            if rel:
                break
        text = open(rel, encoding="utf-8").read()
        edits = [0]

        def edit():
            edits[0] += 1
            with open(rel, "w", encoding="utf-8") as fh:
                fh.write(re.sub(r'^title = "(.*?)( \(ed \d+\))?"$', rf'title = "\1 (ed {edits[0]})"', text, count=1, flags=re.M))
            return run([binary, "build", "--root", site, "--output", out], env=env)
        w_edit, c_edit, _ = best(edit, reps)
        w_check, c_check, _ = best(lambda: run([binary, "check", "--root", site], env=env), reps)

        def copy():
            shutil.rmtree(cout, ignore_errors=True)
            return run(["cp", "-r", out, cout])
        w_cp, c_cp, _ = best(copy, reps)
        if hugo:
            def hugo_build():
                shutil.rmtree(hout, ignore_errors=True)
                return run([hugo, "--quiet", "-s", hsite, "-d", hout], env=env)
            w_hugo, c_hugo, _ = best(hugo_build, reps)
            hpages = count_files(hout)
        else:
            w_hugo = c_hugo = float("nan")
            hpages = 0
        rows.append(dict(n=n, pages=pages, w_full=w_full, c_full=c_full, rss=rss_full, w_noop=w_noop, w_edit=w_edit,
                         w_check=w_check, w_cp=w_cp, w_hugo=w_hugo, c_hugo=c_hugo, hpages=hpages))
        print(f"{n}: full {w_full:.2f}s (cpu {c_full:.2f}s, {rss_full:.0f} MiB, {pages} pages), no-change {w_noop:.3f}s, "
              f"edit {w_edit:.3f}s, check {w_check:.3f}s, cp -r {w_cp:.2f}s, hugo {w_hugo:.2f}s ({hpages} pages)",
              file=sys.stderr)
        for d in (out, hout, cout):
            shutil.rmtree(d, ignore_errors=True)
    print(f"\nMachine: {os.cpu_count()} cores; hugo: {subprocess.run([hugo, 'version'], capture_output=True, text=True).stdout.strip() if hugo else 'not installed'}\n")
    print("| releases | pages | full build (wall / CPU) | peak RSS | no-change rebuild | one record edited | check alone | cp -r floor | Hugo (pages) | build / Hugo | build / cp -r |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['n']:,} | {r['pages']:,} | {r['w_full']:.2f} s / {r['c_full']:.2f} s | {r['rss']:.0f} MiB | {r['w_noop']:.3f} s | "
              f"{r['w_edit']:.3f} s | {r['w_check']:.3f} s | {r['w_cp']:.2f} s | {r['w_hugo']:.2f} s ({r['hpages']:,}) | "
              f"{r['w_full'] / r['w_hugo']:.2f} | {r['w_full'] / r['w_cp']:.2f} |")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
