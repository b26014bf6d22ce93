#!/usr/bin/env bash
# Instruction counts of a fixed training run, a speed gate immune to machine noise.
#
# Runs examples/train_steps.rs (batch 32, a few batches of synthetic data; built without
# target-cpu=native) under `valgrind --tool=callgrind`, counting the instructions of
# `actbench::train::train` only (data generation excluded), for each case below (the default
# network with two activations, 100 steps; the tutorial's CNN, 4 steps), and compares them with
# benches/instructions.baseline. A count more than 3% above its baseline fails; so does a
# missing baseline for this toolchain and CPU path. Counts repeat exactly for the same binary
# and input whatever else the machine does.
#
#   benches/instructions.sh            # check (CI)
#   benches/instructions.sh --update   # record the current counts as the baseline, on purpose
set -euo pipefail
cd "$(dirname "$0")/.."

baseline=benches/instructions.baseline
tolerance_percent=3
# model activation steps; a case's key in the baseline is "steps=N ACTIVATION" for the dense
# network (as before the CNN case existed) and "steps=N cnn ACTIVATION" for the CNN.
cases=("mlp relu 100" "mlp tanh 100" "cnn relu 4")

update=0
case "${1:-}" in
  "") ;;
  --update) update=1 ;;
  *) echo "error: unknown option '$1' (usage: benches/instructions.sh [--update])" >&2; exit 2 ;;
esac
command -v valgrind >/dev/null || {
  echo "error: valgrind not found (Debian: apt-get install valgrind)" >&2; exit 1; }

# Built as a user's default `cargo build --release` would be, without .cargo/config.toml's
# -C target-cpu=native (in a target directory of its own, so the two builds do not evict each
# other): that is the build the run-time CPU dispatch must keep fast, and its code runs under
# valgrind on any x86_64 (valgrind cannot execute AVX-512, which a native build may contain;
# under valgrind the dispatch sees no AVX-512 and takes the avx2-fma path).
plain_target="${CARGO_TARGET_DIR:-target}/plain"
env -u CARGO_ENCODED_RUSTFLAGS RUSTFLAGS= CARGO_TARGET_DIR="$plain_target" \
  cargo build --release --quiet --example train_steps
bin="$plain_target/release/examples/train_steps"
toolchain=$(rustc --version | awk '{print "rustc-" $2}')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
declare -a lines=()
for case in "${cases[@]}"; do
  read -r model act steps <<<"$case"
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
    --toggle-collect='actbench::train::train' "$bin" "$act" "$steps" "$model" >"$tmp/out" 2>"$tmp/err" || {
    cat "$tmp/err" >&2; echo "error: the callgrind run of $act failed" >&2; exit 1; }
  count=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/err")
  cpu=$(sed -n 's/.* cpu=\([^ ]*\) .*/\1/p' "$tmp/out")
  [[ -n "$count" && -n "$cpu" ]] || { cat "$tmp/out" "$tmp/err" >&2; echo "error: no count for $act" >&2; exit 1; }
  key="$toolchain $cpu steps=$steps $act"
  [[ $model == mlp ]] || key="$toolchain $cpu steps=$steps $model $act"
  lines+=("$key $count")
  if [[ $update == 1 ]]; then
    echo "$key: $count instructions"
    continue
  fi
  want=$(awk -v k="$key" '!/^#/ { c = $NF; $NF = ""; sub(/ $/, ""); if ($0 == k) print c }' "$baseline" 2>/dev/null || true)
  if [[ -z "$want" ]]; then
    echo "FAIL $key: $count instructions, no baseline for this toolchain and CPU path in $baseline"
    status=1
    continue
  fi
  change=$(awk -v a="$count" -v b="$want" 'BEGIN { printf "%+.2f", (a - b) * 100 / b }')
  if awk -v a="$count" -v b="$want" -v t="$tolerance_percent" 'BEGIN { exit !(a > b * (1 + t / 100)) }'; then
    echo "FAIL $key: $count instructions, baseline $want ($change%, limit +$tolerance_percent%)"
    status=1
  else
    echo "ok   $key: $count instructions, baseline $want ($change%)"
  fi
done

if [[ $update == 1 ]]; then
  {
    echo "# Instructions executed by actbench::train::train in examples/train_steps.rs under"
    echo "# valgrind --tool=callgrind: toolchain, CPU path, steps, activation, count."
    echo "# Refresh on purpose with benches/instructions.sh --update (see README)."
    # Keep other toolchains' and paths' lines; replace this one's.
    if [[ -f "$baseline" ]]; then
      grep -v '^#' "$baseline" | grep -v "^$toolchain $cpu " || true
    fi
    printf '%s\n' "${lines[@]}"
  } >"$baseline.tmp"
  mv "$baseline.tmp" "$baseline"
  echo "wrote $baseline"
elif [[ $status != 0 ]]; then
  echo "Instruction counts grew (or have no baseline). If that is intended (a deliberate change in"
  echo "the work done per step, or a new toolchain or CPU), refresh the baseline on purpose with"
  echo "  benches/instructions.sh --update"
  echo "and commit benches/instructions.baseline with the reason in the commit message."
fi
exit $status
