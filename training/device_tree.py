#!/usr/bin/env python3
"""What travels to the GPU machine, and a slimmer tree for a training stage.

The device tool copies the working tree (tracked files, untracked files git does not ignore, and the paths named
in `carry`) to the GPU machine, 64 MiB at most. The repository alone is about 60 MB (fonts 41 MB, the bundled model
12 MB), so the generator (dist/genpub.tar.xz, which bundles its own fonts, xz-compressed) and a stage checkpoint do
not fit beside it. A training stage needs none of the big tracked files, so for the length of one device call they
are taken out of the index (the files stay on disk) and put back afterwards:

  python3 training/device_tree.py size [--carry dist]   # bytes that would travel now
  python3 training/device_tree.py slim                  # untrack what a stage does not need (git rm --cached)
  ... device run with carry ["dist"] ...
  python3 training/device_tree.py restore               # track them again (git reset), exactly as before

`slim` refuses to run when the index already has staged changes (so `restore` can put back exactly what it took),
and records what it took in .git/device-slim.txt; `restore` reads that file. Never commit between the two.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
LIMIT = 64 * 1024 * 1024
# Not needed by training/gpu_stage.sh: the service's fonts (the published generator carries its own), the bundled
# models and their committed training states (a stage carries the one it resumes from in dist/), test data, the
# rendering gallery and tour pictures.
SLIM = ["fonts", "models", "training/state", "tests/Tasks.Tests/data", "tests/Rendering.Tests/Data", "docs/gallery", "docs/tour"]
RECORD = os.path.join(REPO, ".git", "device-slim.txt")
EXCLUDE = os.path.join(REPO, ".git", "info", "exclude")
MARK = "# device_tree.py slim"


def git(*args, check=True):
    return subprocess.run(["git", *args], cwd=REPO, check=check, text=True, capture_output=True).stdout


def travelling(carry=()):
    files = [f for f in git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0") if f]
    total = sum(os.path.getsize(os.path.join(REPO, f)) for f in files if os.path.isfile(os.path.join(REPO, f)))
    for c in carry:
        p = os.path.join(REPO, c)
        for root, _, names in os.walk(p) if os.path.isdir(p) else [(os.path.dirname(p), [], [os.path.basename(p)])]:
            total += sum(os.path.getsize(os.path.join(root, n)) for n in names if os.path.isfile(os.path.join(root, n)))
    return total, len(files)


def size(carry):
    total, n = travelling(carry)
    print(f"{total / 2**20:.1f} MiB would travel ({n} files in the tree{', plus ' + ', '.join(carry) if carry else ''}); "
          f"the limit is 64 MiB{'' if total <= LIMIT else ': TOO LARGE'}")
    return total <= LIMIT


def slim():
    if os.path.exists(RECORD):
        sys.exit("already slimmed (.git/device-slim.txt exists): run `restore` first")
    if git("diff", "--cached", "--name-only").strip():
        sys.exit("the index has staged changes: commit or unstage them first, so `restore` puts back exactly what `slim` took")
    paths = [p for p in SLIM if git("ls-files", "--", p).strip()]
    taken = git("ls-files", "-z", "--", *paths).split("\0")
    git("rm", "-r", "-q", "--cached", "--", *paths)
    with open(RECORD, "w") as f:
        f.write("\n".join(paths) + "\n")
    with open(EXCLUDE, "a") as f:  # gitignore syntax has no trailing comments: the marker gets its own line
        f.write(f"{MARK}\n" + "".join(f"/{p}/\n" for p in paths))
    print(f"untracked {len([t for t in taken if t])} files under {', '.join(paths)} for the device call")


def restore():
    if not os.path.exists(RECORD):
        sys.exit("nothing to restore (.git/device-slim.txt is missing)")
    paths = [p for p in open(RECORD).read().split() if p]
    git("reset", "-q", "--", *paths)
    patterns = {f"/{p}/\n" for p in paths} | {MARK + "\n"}
    with open(EXCLUDE) as f:
        lines = [l for l in f if l not in patterns]
    with open(EXCLUDE, "w") as f:
        f.writelines(lines)
    os.remove(RECORD)
    left = git("status", "--porcelain", "--", *paths).strip()
    print("restored " + ", ".join(paths) + ("" if not left else f"; git status shows changes there:\n{left}"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("verb", choices=["size", "slim", "restore"])
    ap.add_argument("--carry", nargs="*", default=[], help="paths the device call will carry (size)")
    a = ap.parse_args()
    if a.verb == "size":
        sys.exit(0 if size(a.carry) else 1)
    slim() if a.verb == "slim" else restore()


if __name__ == "__main__":
    main()
