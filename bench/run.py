#!/usr/bin/env python3
"""Benchmark impala-awards against the cp -r floor and Hugo on the same synthetic archive.

Usage: python3 bench/run.py [--sizes 1000,10000,100000] [--reps 3] [--serve-sizes 10000]
                            [--bin target/release/impala-awards] [--keep]

For each size it generates the archive (and two equivalent Hugo sites: the same
pages listing releases, and the same pages carrying our award rows) with the
hidden `gen` subcommand, then measures in one run: a full build, a rebuild with
no change, the first edit after the cold build (which also makes the buffer
beside the output), rebuilds after editing one record (its title, then an award's units), `check` alone, `cp -r` of the
output (the floor), `hugo` building each equivalent site and, for the sizes in
--serve-sizes, how long `serve` takes to show an edited record. Wall time and
CPU time (user+sys of the child) come from the child's rusage, peak RSS from
wait4. Prints a Markdown table with ratios, for BENCHMARKS.md.

Nothing is deleted while a size is being measured: on this machine's ext4
(no journal) creating files within ~35 s of deleting many is several times
slower (the kernel's `recently_deleted` inode scan), which would pollute every
timing after an `rm -rf`. So every cold build, `cp -r` and Hugo run writes into
a new folder; the trees of a size are deleted only after all its measurements,
and the next size is measured only once 40 s have passed since that deletion.
"""
import argparse
import os
import queue
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# Seconds to leave between a large deletion and the next measured command
# (ext4 without a journal treats inodes freed in the last 35 s as "recently
# deleted" and scans past them when allocating).
DELETE_SETTLE = 40.0
# A little more than the age below which a build does not trust an input's stats
# (src/site.rs, RACY).
RACY_SECONDS = 2.5
# How long serve's initial build, or one rebuild, may take before giving up.
SERVE_TIMEOUT = 900.0
# serve's answer to an edit; whatever follows "rebuilt in <N> ms" may change.
REBUILT = re.compile(r"^rebuilt in (\d+) ms")
# Since session 12, an edit of what is searched is served first and its search
# index follows: this line says when.
SEARCHED = re.compile(r"^search index rebuilt in (\d+) ms")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, env=None, cwd=None):
    """Runs cmd; returns (wall s, cpu s, stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p.stderr


def peak_rss(cmd, env=None):
    """Peak RSS (MiB) of one run of cmd, from wait4 (ru_maxrss of RUSAGE_CHILDREN is a max over all children)."""
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


def count_files(d, suffix=""):
    n = 0
    for _, _, files in os.walk(d):
        n += sum(1 for f in files if f.endswith(suffix))
    return n


def du_mib(d):
    """Disk usage of a tree in MiB, as `du -s` counts it."""
    out = subprocess.run(["du", "-s", "--block-size=1K", d], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0]) / 1024


def best(f, reps):
    """Best wall of `reps` runs (and its cpu): the usual way to damp noise.

    f gets the rep number, so each rep can write into a folder of its own.
    Dirty pages from the previous run are flushed first (not timed), so one
    run's writeback does not land in the next one's time."""
    runs = []
    for rep in range(reps):
        os.sync()
        runs.append(f(rep))
    return min(runs, key=lambda r: r[0])


def first_release(site):
    for root, dirs, files in os.walk(os.path.join(site, "content", "releases")):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".toml"):
                return os.path.join(root, f)
    sys.exit(f"no release file under {site}/content/releases")


def write_file(path, text):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def retitle(text, tag):
    """The release with ` (tag)` appended to its title (replacing an earlier tag)."""
    new, n = re.subn(r'^title = "(.*?)( \((?:ed|serve) \d+\))?"$', rf'title = "\1 ({tag})"', text, count=1, flags=re.M)
    if n != 1:
        sys.exit("cannot find the title line of the edited release")
    return new


SHIPMENTS = re.compile(r"^(shipments = \{ *[A-Z]{2} *= *)(\d+)", re.M)


def reunit(text, delta):
    """The release with its first award's first country's units raised by delta, or None."""
    m = SHIPMENTS.search(text)
    if not m:
        return None
    return text[:m.start(2)] + str(int(m.group(2)) + delta) + text[m.end(2):]


class Serve:
    """A running `impala-awards serve` whose stderr lines are timestamped as they arrive."""

    def __init__(self, binary, site, env):
        self.p = subprocess.Popen(
            [binary, "serve", "--root", site, "--port", "0", "--bind", "127.0.0.1"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        self.lines = queue.Queue()
        self.log = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stderr:
            self.lines.put((time.perf_counter(), line.rstrip("\n")))
        self.lines.put((time.perf_counter(), None))

    def wait_for(self, pattern, what, timeout=SERVE_TIMEOUT):
        """(arrival time, match) of the next line matching pattern; exits on a failed build or a dead serve."""
        deadline = time.perf_counter() + timeout
        while True:
            try:
                t, line = self.lines.get(timeout=max(deadline - time.perf_counter(), 0.01))
            except queue.Empty:
                self.fail(f"no {what} within {timeout:.0f} s")
            if line is None:
                self.fail(f"serve exited ({self.p.wait()}) before {what}")
            self.log.append(line)
            if line.startswith("build failed"):
                self.fail(f"serve's build failed while waiting for {what}")
            m = pattern.search(line)
            if m:
                return t, m

    def drain(self, quiet=0.5):
        """Lines that arrive until none has for `quiet` s (e.g. a second rebuild of the same edit)."""
        extra = []
        while True:
            try:
                _, line = self.lines.get(timeout=quiet)
            except queue.Empty:
                return extra
            if line is None:
                self.fail(f"serve exited ({self.p.wait()})")
            self.log.append(line)
            extra.append(line)

    def fail(self, why):
        self.stop()
        sys.exit(f"serve: {why}\n" + "\n".join(self.log[-30:]))

    def stop(self):
        """Ctrl-C, as a user would; kill if it does not stop."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def serve_edits(binary, site, env, rel, reps):
    """Times serve's rebuild after one record is edited: wall time from the file write to
    serve's "rebuilt in N ms" line, and N. Best of `reps` for a title edit and for a units
    edit; returns (initial build s, title (wall s, ms), units (wall s, ms) or None)."""
    s = Serve(binary, site, env)
    try:
        t0 = time.perf_counter()
        t, _ = s.wait_for(re.compile(r"^built\b"), "initial build")
        initial = t - t0
        s.wait_for(re.compile(r"^serving "), "serving line")
        # Let the watcher settle; anything printed now is not ours.
        s.drain()
        orig = open(rel, encoding="utf-8").read()

        def measure(edits, what, searched):
            """(wall s, N ms, wall s to the search index or None), best by wall; `searched`:
            the edit changes what is searched, whose index may follow the pages."""
            got = []
            for k, text in enumerate(edits):
                t0 = time.perf_counter()
                write_file(rel, text)
                t, m = s.wait_for(REBUILT, f"rebuild after {what} edit {k + 1}")
                search = None
                if searched:
                    ts, _ = s.wait_for(SEARCHED, f"search index after {what} edit {k + 1}")
                    search = ts - t0
                got.append((t - t0, int(m.group(1)), search))
                extra = s.drain()
                if any(REBUILT.search(x) for x in extra):
                    log(f"  note: serve rebuilt more than once after {what} edit {k + 1}")
            log(f"  serve, {what} edits: " + ", ".join(
                f"{w:.3f} s ({ms} ms)" + (f", search index {x:.3f} s" if x is not None else "") for w, ms, x in got))
            return min(got)

        title = measure([retitle(orig, f"serve {k + 1}") for k in range(reps)], "title", True)
        units = None
        if reunit(orig, 1) is not None:
            units = measure([reunit(orig, k + 1) for k in range(reps)], "units", False)
        write_file(rel, orig)
        return initial, title, units
    finally:
        s.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--bin", default="target/release/impala-awards")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--serve-sizes", default="10000",
                    help="sizes at which to time serve's rebuild after an edit (comma-separated; empty for none)")
    ap.add_argument("--keep", action="store_true", help="keep the generated trees")
    ap.add_argument("--work", default=None,
                    help="folder to generate, build and copy in (default: a new folder in the system's temp "
                         "folder); e.g. /dev/shm to measure without the disk")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    hugo = shutil.which("hugo")
    env = dict(os.environ, SOURCE_DATE_EPOCH="1790000000")
    serve_sizes = {int(s) for s in a.serve_sizes.split(",") if s.strip()}
    if a.work:
        os.makedirs(a.work, exist_ok=True)
    work = tempfile.mkdtemp(prefix="impala-bench-", dir=a.work)
    if a.keep:
        log(f"trees kept in {work}")
    rows = []
    deleted_at = None
    for n in [int(s) for s in a.sizes.split(",")]:
        site, hsite = os.path.join(work, f"site-{n}"), os.path.join(work, f"hugo-{n}")
        rsite = os.path.join(work, f"hugo-rows-{n}")
        subprocess.run([binary, "gen", site, "--releases", str(n), "--seed", "7", "--hugo", hsite, "--hugo-rows", rsite],
                       env=env, check=True, stderr=subprocess.DEVNULL)
        # A build trusts the stats of inputs only once they are 2 s old (git's
        # "racy" files): a cold build right after `gen` could not record them, and
        # the no-change rebuild after it read everything (3.5 s at 100k, one run).
        time.sleep(RACY_SECONDS)
        if deleted_at is not None:
            wait = DELETE_SETTLE - (time.monotonic() - deleted_at)
            if wait > 0:
                log(f"waiting {wait:.0f} s: the last size's trees were deleted {DELETE_SETTLE - wait:.0f} s ago")
                time.sleep(wait)
        reps = a.reps if n < 100000 else 1
        # Every output folder lives in `work`, so its buffer (.NAME.prev) and
        # search cache (.NAME.search-cache) are new too: each build is cold.
        out_of = lambda rep: os.path.join(work, f"out-{n}-{rep}")

        # The cold build, its cp -r floor and Hugo take turns within each rep:
        # this disk's speed drifts by a factor of several within minutes (see
        # "The disk" in BENCHMARKS.md), so the ratios compare runs made side by side.
        hout_of = lambda rep: os.path.join(work, f"hugo-out-{n}-{rep}")
        rout_of = lambda rep: os.path.join(work, f"hugo-rows-out-{n}-{rep}")
        fulls, cps, hugos, hrows = [], [], [], []
        for rep in range(reps):
            os.sync()
            fulls.append(run([binary, "build", "--root", site, "--output", out_of(rep)], env=env))
            os.sync()
            cps.append(run(["cp", "-r", out_of(rep), os.path.join(work, f"copy-{n}-{rep}")]))
            if hugo:
                os.sync()
                hugos.append(run([hugo, "--quiet", "-s", hsite, "-d", hout_of(rep)], env=env))
                os.sync()
                hrows.append(run([hugo, "--quiet", "-s", rsite, "-d", rout_of(rep)], env=env))
        w_full, c_full, err = min(fulls, key=lambda r: r[0])
        w_cp, c_cp, _ = min(cps, key=lambda r: r[0])
        out = out_of(reps - 1)  # the rebuilds below start from the last cold build
        m = re.search(r"built (\d+) pages", err)
        pages = int(m.group(1)) if m else count_files(out, ".html")
        os.sync()
        rss_full = peak_rss([binary, "build", "--root", site, "--output", os.path.join(work, f"out-{n}-rss")], env)
        w_noop, c_noop, _ = best(lambda rep: run([binary, "build", "--root", site, "--output", out], env=env), reps)
        # Edit one record: change the title of the first release file.
        rel = first_release(site)
        text = open(rel, encoding="utf-8").read()

        def edit(rep):
            write_file(rel, retitle(text, f"ed {rep + 1}"))
            return run([binary, "build", "--root", site, "--output", out], env=env)
        # The first edit after a cold build also makes the buffer beside the
        # output (every unchanged file copied in): timed on its own, so that
        # the edit figures are an edit's cost at every size (at 100k, with one
        # run, the title edit used to be this one).
        os.sync()
        w_first, _, _ = edit(-1)
        w_edit, c_edit, _ = best(edit, reps)
        # And an award's units, which changes no search record (the search
        # index is reused): the common upgrade of a figure.
        edited = open(rel, encoding="utf-8").read()
        if reunit(edited, 1) is None:
            sys.exit(f"no shipments line in {rel}")

        def edit_units(rep):
            write_file(rel, reunit(edited, rep + 1))
            return run([binary, "build", "--root", site, "--output", out], env=env)
        w_units, _, _ = best(edit_units, reps)
        write_file(rel, edited)
        w_check, c_check, _ = best(lambda rep: run([binary, "check", "--root", site], env=env), reps)
        if hugo:
            w_hugo, c_hugo, _ = min(hugos, key=lambda r: r[0])
            hout = hout_of(reps - 1)
            hpages = count_files(hout, ".html")
            hsize, hfiles = du_mib(hout), count_files(hout)
            w_rows = min(hrows, key=lambda r: r[0])[0]
            rout = rout_of(reps - 1)
            rpages, rsize, rfiles = count_files(rout, ".html"), du_mib(rout), count_files(rout)
        else:
            w_hugo = c_hugo = hsize = w_rows = rsize = float("nan")
            hpages = hfiles = rpages = rfiles = 0
        serve = None
        if n in serve_sizes:
            os.sync()
            serve = serve_edits(binary, site, env, rel, 3)
        size, files = du_mib(out), count_files(out)
        rows.append(dict(n=n, pages=pages, w_full=w_full, c_full=c_full, rss=rss_full, w_noop=w_noop, w_first=w_first, w_edit=w_edit,
                         w_units=w_units, w_check=w_check, w_cp=w_cp, w_hugo=w_hugo, c_hugo=c_hugo, hpages=hpages, serve=serve,
                         size=size, files=files, hsize=hsize, hfiles=hfiles, w_rows=w_rows, rpages=rpages, rsize=rsize,
                         rfiles=rfiles))
        serve_txt = ""
        if serve:
            initial, (sw, sms, sx), units = serve
            serve_txt = f", serve: initial build {initial:.2f}s, title edit {sw:.3f}s ({sms} ms), its search index {sx:.3f}s"
            if units:
                serve_txt += f", units edit {units[0]:.3f}s ({units[1]} ms)"
        log(f"{n}: full {w_full:.2f}s (cpu {c_full:.2f}s, {rss_full:.0f} MiB, {pages} pages), no-change {w_noop:.3f}s, "
            f"first edit {w_first:.3f}s, title edit {w_edit:.3f}s, units edit {w_units:.3f}s, check {w_check:.3f}s, cp -r {w_cp:.2f}s, hugo {w_hugo:.2f}s ({hpages} pages), "
            f"hugo with our rows {w_rows:.2f}s ({rpages} pages){serve_txt}; "
            f"output {size:.0f} MiB in {files} files, Hugo's {hsize:.0f} MiB in {hfiles} files, "
            f"with our rows {rsize:.0f} MiB in {rfiles} files")
        if not a.keep:
            # All of this size is measured: now delete, and let the next size wait.
            for name in os.listdir(work):
                path = os.path.join(work, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.remove(path)
            os.sync()
            deleted_at = time.monotonic()
    hv = subprocess.run([hugo, 'version'], capture_output=True, text=True).stdout.strip() if hugo else 'not installed'
    fs = subprocess.run(["df", "--output=fstype", work], capture_output=True, text=True).stdout.split()[-1]
    print(f"\nMachine: {os.cpu_count()} cores; work folder {work} ({fs}); hugo: {hv}\n")
    print("| releases | pages | full build (wall / CPU) | peak RSS | no-change rebuild | one record edited (title / units) | check alone "
          "| cp -r floor | Hugo (pages) | Hugo, our rows (pages) | build / Hugo | build / Hugo, our rows | build / cp -r "
          "| serve: one record edited |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        serve = ""
        if r["serve"]:
            _, (sw, sms, sx), units = r["serve"]
            serve = f"{sw:.3f} s ({sms} ms), search index {sx:.3f} s"
            if units:
                serve += f"; units {units[0]:.3f} s ({units[1]} ms)"
        print(f"| {r['n']:,} | {r['pages']:,} | {r['w_full']:.2f} s / {r['c_full']:.2f} s | {r['rss']:.0f} MiB | {r['w_noop']:.3f} s | "
              f"{r['w_edit']:.3f} s / {r['w_units']:.3f} s | {r['w_check']:.3f} s | {r['w_cp']:.2f} s | {r['w_hugo']:.2f} s ({r['hpages']:,}) | "
              f"{r['w_rows']:.2f} s ({r['rpages']:,}) | {r['w_full'] / r['w_hugo']:.2f} | {r['w_full'] / r['w_rows']:.2f} | "
              f"{r['w_full'] / r['w_cp']:.2f} | {serve} |")
    print("\nServe: wall time from writing the edited file to serve's \"rebuilt in N ms\" line (N in brackets), "
          "best of 3; a title edit, and an award's units edit. A title edit changes what is searched: its pages "
          "are served first, and \"search index\" is the wall time from the write to the search index that follows.")
    print("\nThe first edit after a cold build, not in the table (it also makes the buffer beside the output, "
          "copying every unchanged file in; the edits above come after it): "
          + "; ".join(f"{r['n']:,}: {r['w_first']:.3f} s" for r in rows) + ".")
    print("\nOutput (du -s, file count):\n")
    for r in rows:
        print(f"- {r['n']:,} releases: ours {r['size']:,.0f} MiB in {r['files']:,} files; "
              f"Hugo's {r['hsize']:,.0f} MiB in {r['hfiles']:,} files, with our rows {r['rsize']:,.0f} MiB "
              f"in {r['rfiles']:,} files")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
