#!/usr/bin/env bash
# Installs everything wafersim needs from Debian 12 packages (compiler, CMake, pkg-config, libraries,
# Python for reports). Run as root, or as a user with sudo. Safe to run again.
# Usage: tools/setup.sh [--fuzz]   (--fuzz also installs clang and libFuzzer for tools/fuzz/, as CI does)
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES=(
  g++ make cmake pkg-config ccache
  libsystemc-dev          # SystemC 2.3.4 (pkg-config: systemc)
  libboost-graph-dev      # operator graphs
  libhdf5-dev             # results.h5
  libyaml-cpp-dev         # hardware and experiment YAML
  nlohmann-json3-dev      # Hugging Face config.json, summary.json
  libgtest-dev            # tests
  libcli11-dev            # command line
  libopenmpi-dev openmpi-bin  # sweeps across machines
  python3 python3-matplotlib python3-h5py  # reports
  time                    # benchmarks (/usr/bin/time)
)
if [ "${1:-}" = "--fuzz" ]; then
  PACKAGES+=(clang libclang-rt-14-dev)  # libFuzzer + ASan/UBSan runtimes for tools/fuzz/
elif [ -n "${1:-}" ]; then
  echo "tools/setup.sh: unknown option '$1' (expected --fuzz or nothing)" >&2; exit 2
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
