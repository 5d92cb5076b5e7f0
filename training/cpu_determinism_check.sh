#!/usr/bin/env bash
# Same seed, same bytes on another CPU? Runs training/determinism_probe.py natively and under QEMU's user-mode
# emulation of older x86-64 CPUs (no AVX/AVX-512: SSE4.2 "Nehalem", AVX2 "Haswell"), so Skia's, glibc's and .NET's
# CPU-dispatched code paths all change while everything else stays the same. Prints the hashes and fails if any
# differs. About 2 minutes per emulated CPU on 2 cores (the emulated generator runs at about 2 examples/s).
#   bash training/cpu_determinism_check.sh [CPU...]       (needs: apt-get install -y qemu-user)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v qemu-x86_64 >/dev/null || { echo "qemu-x86_64 not found: apt-get install -y qemu-user" >&2; exit 2; }
dotnet build -c Release generator -v q >/dev/null
GEN="$PWD/GeneratorTool/bin/Release/net10.0/vqa-generate.dll"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\nexec qemu-x86_64 -cpu "$QCPU" %s %s "$@"\n' "$(command -v dotnet)" "$GEN" > "$work/emulated"
chmod +x "$work/emulated"
python3 training/determinism_probe.py dotnet "$GEN" | tee "$work/native"
status=0
if cmp -s "$work/native" training/probe-hashes.txt; then echo "native: same as training/probe-hashes.txt"
else echo "native: DIFFERENT from training/probe-hashes.txt (pixels changed: on purpose? then commit the new hashes)"; status=1; fi
for cpu in "${@:-Nehalem Haswell}"; do
  for c in $cpu; do
    echo "== $c (emulated)"
    # The JIT under user-mode QEMU needs W^X off; tiering off saves emulated re-JIT time; a 256 MB gen-0 budget
    # keeps garbage collections rare; QEMU still crashes the runtime now and then, and a crashed shard is rerun.
    PROBE_RETRIES=5 QCPU=$c DOTNET_EnableWriteXorExecute=0 DOTNET_TieredCompilation=0 DOTNET_GCgen0size=0x10000000 \
      python3 training/determinism_probe.py "$work/emulated" | tee "$work/$c"
    if cmp -s "$work/native" "$work/$c"; then echo "same bytes as native"; else echo "DIFFERENT from native"; status=1; fi
  done
done
exit $status
