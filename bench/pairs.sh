#!/usr/bin/env bash
# Compares two binaries in alternating pairs on one machine, each order in turn, so that the
# machine's drift within minutes falls on both alike (bench/run.py compares against Hugo and
# `cp -r`; this compares code with code).
#
#   bench/pairs.sh cold BIN_A BIN_B SITE N   N pairs of cold builds, each into a new folder
#   bench/pairs.sh edit BIN_A BIN_B SITE N   N pairs of builds after a title edit, in two copies
#                                            of SITE (one per binary, each with its own buffer
#                                            and search cache, which the binaries' formats may
#                                            not share)
#
# SITE is a site folder, e.g. one `impala-awards gen DIR --releases 10000 --seed 7` made. WORK
# (default /dev/shm/impala-pairs) holds the trees; it is deleted first and at the end. Prints,
# per binary, the wall times, the CPU times (user + sys) and the peak RSS of its runs, in order.
set -euo pipefail
mode=$1 a=$2 b=$3 site=$4 n=$5
work=${WORK:-/dev/shm/impala-pairs}
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# Appends " (ed K)" to the first title of a record (replacing an earlier tag).
retitle() {
  python3 - "$1" "$2" <<'EOF'
import re, sys
path, tag = sys.argv[1], sys.argv[2]
text = open(path).read()
text, n = re.subn(r'^title = "(.*?)( \(ed \d+\))?"$', rf'title = "\1 (ed {tag})"', text, count=1, flags=re.M)
if n != 1:
    sys.exit(f"no title line in {path}")
open(path, "w").write(text)
EOF
}

# A build trusts its inputs' stats only once they are 2 s old (src/site.rs, RACY).
settle() { sleep 2.6; }

timed() { # label, then the command
  local label=$1
  shift
  /usr/bin/time -f "$label %e %U %S %M" "$@" 2>&1 >/dev/null | tail -1
}

rel=""
if [ "$mode" = edit ]; then
  cp -r "$site" "$work/a"
  cp -r "$site" "$work/b"
  rel=$(cd "$work/a" && find content/releases -name '*.toml' | sort | sed -n 1p)
  # A cold build, then a first edit that makes the buffer beside the output.
  for x in a b; do
    bin=$a
    [ $x = b ] && bin=$b
    "$bin" build --root "$work/$x" >/dev/null 2>&1
    retitle "$work/$x/$rel" 0
    settle
    "$bin" build --root "$work/$x" >/dev/null 2>&1
  done
fi

for i in $(seq 1 "$n"); do
  order="a b"
  [ $((i % 2)) = 0 ] && order="b a"
  for x in $order; do
    bin=$a
    [ $x = b ] && bin=$b
    case $mode in
      cold) timed "$x" "$bin" build --root "$site" --output "$work/out-$i-$x" ;;
      edit)
        retitle "$work/$x/$rel" "$i"
        settle
        timed "$x" "$bin" build --root "$work/$x"
        ;;
      *) echo "mode: cold or edit" >&2; exit 2 ;;
    esac
  done
done | awk '
  { wall[$1] = wall[$1] " " $2; cpu[$1] = cpu[$1] " " ($3 + $4); rss[$1] = rss[$1] " " int($5 / 1024) }
  END { for (k in wall) print k, "wall s:" wall[k], "| cpu s:" cpu[k], "| peak MiB:" rss[k] }' | sort
