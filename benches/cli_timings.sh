#!/usr/bin/env bash
# Whole-command timings, repeated: median seconds per epoch per activation, wall-clock time and
# peak RSS (from /usr/bin/time) over N runs of the same actbench command.
#   benches/cli_timings.sh N [actbench options...]
# e.g. benches/cli_timings.sh 5 --activations relu,tanh,sigmoid,elu
set -euo pipefail
n=${1:?usage: $0 N [actbench options...]}
shift
bin="$(dirname "$0")/../target/release/actbench"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq "$n"); do
  /usr/bin/time -f "%e %M" -o "$tmp/time.$i" "$bin" "$@" --quiet --out "$tmp/run.$i" >/dev/null
done
python3 - "$tmp" "$n" <<'PY'
import csv, statistics as st, sys
tmp, n = sys.argv[1], int(sys.argv[2])
per = {}
for i in range(1, n + 1):
    for row in csv.DictReader(open(f"{tmp}/run.{i}/summary.csv")):
        per.setdefault(row["activation"], []).append(float(row["seconds_per_epoch"]))
walls, rss = zip(*[map(float, open(f"{tmp}/time.{i}").read().split()) for i in range(1, n + 1)])
relu = st.median(per["relu"]) if "relu" in per else None
print(f"{'activation':<12} {'median s/epoch':>14} {'min':>7} {'max':>7} {'vs relu':>8}")
for a, v in per.items():
    ratio = f"{st.median(v) / relu:.2f}" if relu else "-"
    print(f"{a:<12} {st.median(v):>14.3f} {min(v):>7.3f} {max(v):>7.3f} {ratio:>8}")
print(f"wall-clock median {st.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}); "
      f"peak RSS median {st.median(rss) / 1024:.1f} MiB (max {max(rss) / 1024:.1f}) over {n} runs")
PY
