#!/usr/bin/env bash
# Whole-command timings, repeated: median seconds per epoch per activation, wall-clock time and
# peak RSS (from /usr/bin/time) over N runs of the same actbench command.
#   benches/cli_timings.sh N [actbench options...]
# e.g. benches/cli_timings.sh 5 --activations relu,tanh,sigmoid,elu
# Side by side: ACTBENCH_BINS="old/actbench new/actbench" runs each build once per round,
# alternating which goes first, and adds each activation's median of the paired ratios
# (build / first build), so that drifts of the machine hit both builds alike.
set -euo pipefail
n=${1:?usage: $0 N [actbench options...]}
shift
read -r -a bins <<<"${ACTBENCH_BINS:-$(dirname "$0")/../target/release/actbench}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq "$n"); do
  order=$(seq 0 $((${#bins[@]} - 1)))
  ((i % 2 == 0)) && order=$(echo "$order" | tac)
  for b in $order; do
    /usr/bin/time -f "%e %M" -o "$tmp/time.$b.$i" "${bins[$b]}" "$@" --quiet \
      --out "$tmp/run.$b.$i" >/dev/null
  done
done
python3 - "$tmp" "$n" "${bins[@]}" <<'PY'
import csv, statistics as st, sys
tmp, n, bins = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
per = []  # per build: activation -> seconds per epoch, by round
for b, name in enumerate(bins):
    acts = {}
    for i in range(1, n + 1):
        for row in csv.DictReader(open(f"{tmp}/run.{b}.{i}/summary.csv")):
            acts.setdefault(row["activation"], []).append(float(row["seconds_per_epoch"]))
    per.append(acts)
    times = [open(f"{tmp}/time.{b}.{i}").read().split() for i in range(1, n + 1)]
    walls, rss = [float(t[0]) for t in times], [float(t[1]) for t in times]
    relu = st.median(acts["relu"]) if "relu" in acts else None
    if len(bins) > 1:
        print(f"build {b}: {name}")
    print(f"{'activation':<12} {'median s/epoch':>14} {'min':>7} {'max':>7} {'vs relu':>8}")
    for a, v in acts.items():
        ratio = f"{st.median(v) / relu:.2f}" if relu else "-"
        print(f"{a:<12} {st.median(v):>14.3f} {min(v):>7.3f} {max(v):>7.3f} {ratio:>8}")
    print(f"wall-clock median {st.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}); "
          f"peak RSS median {st.median(rss) / 1024:.1f} MiB (max {max(rss) / 1024:.1f}) over {n} runs")
for b in range(1, len(bins)):
    print(f"build {b} / build 0, per activation: ratio of medians, median of paired ratios "
          f"(min .. max)")
    for a, v in per[b].items():
        base = per[0].get(a)
        if base is None or len(base) != len(v):
            continue
        pairs = [x / y for x, y in zip(v, base)]
        print(f"{a:<12} {st.median(v) / st.median(base):>6.3f} {st.median(pairs):>6.3f} "
              f"({min(pairs):.3f} .. {max(pairs):.3f})")
PY
