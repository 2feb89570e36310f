#!/usr/bin/env bash
# Speed and memory of the SystemC engine and of the synthetic-traffic mode (a benchmark, not a test).
# Usage: tools/bench/systemc_bench.sh   (after building; BIN=path/to/wafersim to override)
# Prints wall time and peak resident memory for: one decode token of Llama-3.1-8B on the full WSE-3;
# one decode token of Llama-3.1-70B across its wafers; the 16x16 synthetic-traffic run at 0.1 injection
# (router-cycles per second, beside BookSim2's from ../shared/reference/noc/booksim2_mesh8x8.csv).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/bin/wafersim}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

measure() {  # label, args...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$TMP/time" "$BIN" "$@" > "$TMP/out"
  read -r wall kb < "$TMP/time"
  awk -v l="$label" -v w="$wall" -v k="$kb" 'BEGIN { printf "%-62s %8.2f s %9.1f MiB\n", l, w, k / 1024 }'
}

one_token=(--phase decode --gpu none -q --set workload.output_tokens=1 --set systemc.decode_samples=1)
measure "Llama-3.1-8B, one decode token, full WSE-3 (systemc)" run --engine systemc --model llama-3.1-8b --wafer wse3 "${one_token[@]}" --out "$TMP/r8"
measure "Llama-3.1-70B, one decode token, all its WSE-3 wafers (systemc)" run --engine systemc --model llama-3.1-70b --wafer wse3 "${one_token[@]}" --out "$TMP/r70"
measure "Synthetic traffic, 16x16 mesh, uniform, 0.1 flits/node/cycle" noc --mesh 16x16 --injection-rate 0.1 --json
ours=$(grep -o '"router_cycles_per_s": *[0-9.e+]*' "$TMP/out" | awk -F: '{print $2}')
csv=../shared/reference/noc/booksim2_mesh8x8.csv
if [ -f "$csv" ]; then
  booksim=$(awk -F, 'NR > 1 && $6 == "0.10" { s += $10 * 64 / $11; n++ } END { if (n) print s / n }' "$csv")
  awk -v o="$ours" -v b="$booksim" 'BEGIN { printf "  router-cycles/s: wafersim %.2f M, BookSim2 (8x8 at 0.1, from the CSV) %.2f M, ratio %.1fx\n", o / 1e6, b / 1e6, o / b }'
else
  awk -v o="$ours" 'BEGIN { printf "  router-cycles/s: wafersim %.2f M (BookSim2 CSV not found)\n", o / 1e6 }'
fi
