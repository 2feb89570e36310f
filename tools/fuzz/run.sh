#!/usr/bin/env bash
# Builds the fuzzers (tools/fuzz/build.sh) and runs each for SECONDS (default 30), one after another, one
# process each. Seeds come from the repository (configs/, tests/config/cases/, tools/fuzz/corpus/); the
# growing corpus lives in build-fuzz/corpus/<target>/, crash/timeout/OOM reproducers in
# build-fuzz/artifacts/. Exits non-zero when any fuzzer reports a finding.
# Usage: tools/fuzz/run.sh [SECONDS]          Reproduce: build-fuzz/<target> build-fuzz/artifacts/<file>
# FUZZ_SEED=N fixes libFuzzer's random seed (CI uses a fixed seed so a run is repeatable; default: random).
set -uo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-30}
OUT=build-fuzz

tools/fuzz/build.sh || exit 2

seed() {  # seed TARGET FILES...: copy existing files into the target's corpus
  local dir=$OUT/corpus/$1; shift
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp -f "$f" "$dir/seed_$(echo "$f" | tr '/' '_')"; done
}
shopt -s nullglob
seed fuzz_units tools/fuzz/corpus/units/*
seed fuzz_wafer_yaml configs/wafers/*.yaml configs/gpus/*.yaml tests/config/cases/*.yaml
seed fuzz_hf_config configs/models/*.json tests/config/cases/*.json tools/fuzz/corpus/hf/*
seed fuzz_set tools/fuzz/corpus/set/*
# The manifest's --set cases are seeds too (one file each).
mkdir -p "$OUT/corpus/fuzz_set"
n=0
while IFS=$'\t' read -r input kind _; do
  [ "$kind" = set ] || continue
  n=$((n + 1)); printf '%s' "$input" >"$OUT/corpus/fuzz_set/seed_manifest_$n"
done <tests/config/cases/manifest.tsv

mkdir -p "$OUT/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=()
for t in fuzz_units fuzz_wafer_yaml fuzz_hf_config fuzz_set; do
  dict=()
  [ "$t" = fuzz_units ] && dict=(-dict=tools/fuzz/units.dict)
  echo "== $t: ${SECONDS_EACH}s"
  rm -f "$OUT/artifacts/$t-"*  # reproducers of an earlier run
  seedarg=()
  [ -n "${FUZZ_SEED:-}" ] && seedarg=(-seed="$FUZZ_SEED")
  if ! "$OUT/$t" "$OUT/corpus/$t" "${dict[@]}" "${seedarg[@]}" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$OUT/artifacts/$t-" -print_final_stats=1 >"$OUT/$t.log" 2>&1; then
    failed+=("$t")
    echo "!! $t: finding; log $OUT/$t.log, reproducer(s):"
    ls -1 "$OUT/artifacts/$t-"* 2>/dev/null | sed 's/^/   /'
    grep -E -m5 'ERROR|SUMMARY|runtime error|fuzz finding|terminate called' "$OUT/$t.log" | sed 's/^/   /'
  else
    grep -E '^stat::(number_of_executed_units|new_units_added)' "$OUT/$t.log" | tr '\n' ' '; echo
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing: findings in ${failed[*]}" >&2
  exit 1
fi
echo "fuzzing: no findings"
