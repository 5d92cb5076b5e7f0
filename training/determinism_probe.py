#!/usr/bin/env python3
"""Same seed, same bytes? Prints one SHA-256 per (example kind, canvas) over small single-kind shards, so two
machines' outputs can be compared part by part: scene pixels (kind 0, canvas A) apart from shaped text (kind 0
canvas B, kind 1), the VQA layout (kind 2) and the pair layout (kind 3).
  python3 training/determinism_probe.py GENERATOR_COMMAND...   e.g. /tmp/genpub/vqa-generate
"""
import hashlib
import struct
import subprocess
import sys
import tempfile
import os

HEADER = 64


def shard_hashes(generator, mix, count=50):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "probe.bin")
        # PROBE_RETRIES: reruns of a generator killed by a signal (user-mode QEMU crashes now and then).
        for attempt in range(int(os.environ.get("PROBE_RETRIES", "1"))):
            done = subprocess.run(generator + ["shard", "--count", str(count), "--seed", "5", "--mix", mix, "--out", path],
                                  stderr=subprocess.DEVNULL)
            if done.returncode >= 0:
                break
        done.check_returncode()
        data = open(path, "rb").read()
    size, rh = struct.unpack_from("<I", data, 12)[0], struct.unpack_from("<I", data, 20)[0]  # canvas side, record header
    canvas = size * size * 3
    record = rh + 2 * canvas
    a, b = hashlib.sha256(), hashlib.sha256()
    for k in range((len(data) - HEADER) // record):
        r = HEADER + k * record
        a.update(data[r + rh:r + rh + canvas])
        b.update(data[r + rh + canvas:r + record])
    return a.hexdigest()[:16], b.hexdigest()[:16]


def main():
    generator = sys.argv[1:] or ["dotnet", "GeneratorTool/bin/Release/net10.0/vqa-generate.dll"]
    for name, mix in [("caption: scene | text", "caption=1"), ("text pair: A | B", "text=1"),
                      ("vqa layout | -", "vqa=1"), ("pair layout | -", "pair=1")]:
        a, b = shard_hashes(generator, mix)
        print(f"{name:24} {a} {b}")


if __name__ == "__main__":
    main()
