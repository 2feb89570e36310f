#!/usr/bin/env bash
# Builds the libFuzzer targets of tools/fuzz/ into build-fuzz/ with clang (ASan + UBSan + libFuzzer).
# Deliberately outside the CMake build: only the parsing/validation sources are compiled (sim/base,
# fabric/wafer_spec.cpp, models/*.cpp, sim/mapping/run_params.cpp, sim/run/run_config.cpp for parse_set),
# never SystemC or HDF5. run_config.cpp also defines resolve_run(), whose presets/GPU/SystemC
# dependencies are not linked: objects are built with -ffunction-sections, resolve_run() is kept out of
# the coverage instrumentation (sancov_ignore.txt; its coverage tables would keep it alive), and the link
# uses --gc-sections, so the unreferenced resolve_run() is dropped with its undefined references.
# Usage: tools/fuzz/build.sh            (incremental; CXX=clang++-14 to pick a compiler, JOBS=2)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/build-fuzz
JOBS=${JOBS:-2}

if [ -z "${CXX:-}" ]; then
  for c in clang++ clang++-14; do
    if command -v "$c" >/dev/null 2>&1; then CXX=$c; break; fi
  done
fi
if [ -z "${CXX:-}" ] || ! "$CXX" --version 2>/dev/null | grep -qi clang; then
  echo "tools/fuzz/build.sh: needs clang++ with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
CXXFLAGS="-std=c++17 -g -O1 -ffunction-sections -fdata-sections $SAN -I$ROOT $(pkg-config --cflags yaml-cpp)"
COV="-fsanitize=fuzzer-no-link -fsanitize-coverage-ignorelist=$ROOT/tools/fuzz/sancov_ignore.txt"
LDLIBS="$(pkg-config --libs yaml-cpp)"

LIB_SRCS=(
  sim/base/errors.cpp sim/base/units.cpp sim/base/params.cpp sim/base/yaml_tree.cpp sim/base/atomic_file.cpp
  fabric/wafer_spec.cpp
  models/hf_import.cpp models/model_spec.cpp models/precision.cpp models/op_graph.cpp
  sim/mapping/run_params.cpp
  sim/run/run_config.cpp
)
FUZZERS=(fuzz_units fuzz_wafer_yaml fuzz_hf_config fuzz_set)

mkdir -p "$OUT/obj"
# A small Makefile (dependency tracking with -MMD) so rebuilds are incremental and run with -j$JOBS.
{
  echo "CXX := $CXX"
  echo "CXXFLAGS := $CXXFLAGS"
  echo "COV := $COV"
  echo "IGNORE := $ROOT/tools/fuzz/sancov_ignore.txt"
  echo "LDLIBS := $LDLIBS"
  echo "OUT := $OUT"
  echo "LIB_OBJS := ${LIB_SRCS[*]/%/.o}"
  echo 'LIB_OBJS := $(addprefix $(OUT)/obj/,$(subst /,_,$(LIB_OBJS)))'
  echo "all: ${FUZZERS[*]/#/\$(OUT)/}"
  for s in "${LIB_SRCS[@]}" "${FUZZERS[@]/#/tools/fuzz/}"; do
    src=$s; [[ $src == *.cpp ]] || src=$src.cpp
    obj="\$(OUT)/obj/$(echo "$src" | tr / _).o"
    extra=""; [[ $src == sim/run/run_config.cpp ]] && extra='-DWAFERSIM_VERSION=\"fuzz\"'
    printf '%s: %s $(OUT)/Makefile $(IGNORE)\n\t$(CXX) $(CXXFLAGS) $(COV) %s -MMD -MP -c %s -o $@\n' "$obj" "$ROOT/$src" "$extra" "$ROOT/$src"
  done
  for f in "${FUZZERS[@]}"; do
    printf '$(OUT)/%s: $(OUT)/obj/tools_fuzz_%s.cpp.o $(LIB_OBJS)\n\t$(CXX) $(CXXFLAGS) -fsanitize=fuzzer -Wl,--gc-sections $^ $(LDLIBS) -o $@\n' "$f" "$f"
  done
  echo '-include $(wildcard $(OUT)/obj/*.d)'
} >"$OUT/Makefile.new"
# Rewritten only when it changes: objects depend on it, so a change of flags rebuilds everything.
if cmp -s "$OUT/Makefile.new" "$OUT/Makefile"; then rm "$OUT/Makefile.new"; else mv "$OUT/Makefile.new" "$OUT/Makefile"; fi
make --no-print-directory -s -f "$OUT/Makefile" -j"$JOBS"
echo "fuzzers in $OUT: ${FUZZERS[*]}"
