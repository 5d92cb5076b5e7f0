#!/usr/bin/env python3
"""How often a served model answers a count question about one colour with the number of all objects.

  python3 training/count_shortcut.py --url http://127.0.0.1:5000 [--scenes 50] [--seed 23]

Draws held-out scenes of 1-3 shapes (no emoji) with `vqa-generate preview` (built in Release), asks each scene a few
English count questions about one colour (any of the eight, so some answers are 0) and prints, per wording, how often
the answer was right, how often it was the number of all objects instead (counting everything: the shortcut
`--count-distractors` trains against), and how often something else. `training/paraphrase_check.py` draws the scenes
the same way.
"""
import argparse, collections, json, os, random, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import paraphrase_check as pc  # noqa: E402

WORDINGS = ["How many {} shapes are there?", "How many {} objects are there?", "How many objects are {}?",
            "How many {} shapes can you see?", "How many shapes in the picture are {}?"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:5000")
    ap.add_argument("--scenes", type=int, default=50)
    ap.add_argument("--seed", type=int, default=23)
    a = ap.parse_args()
    gen = os.path.join(pc.REPO, "GeneratorTool", "bin", "Release", "net10.0", "vqa-generate.dll")
    tmp = tempfile.mkdtemp(prefix="count-shortcut-")
    subprocess.run(["dotnet", gen, "preview", "--split", "heldout", "--seed", str(a.seed), "--size", "128", "--mix", "vqa=1",
                    "--objects", "1-3", "--emoji-share", "0", "--languages", "en", "--count", str(a.scenes), "--out", tmp],
                   check=True, stdout=subprocess.DEVNULL)
    rnd = random.Random(5)
    tally = collections.defaultdict(collections.Counter)
    with open(os.path.join(tmp, "examples.jsonl")) as f:
        for line in f:
            ex = json.loads(line)
            with open(os.path.join(tmp, f"{ex['index']:04d}-scene.png"), "rb") as g:
                png = g.read()
            objects = ex["objects"]
            colour, answer = pc.colour_to_count(objects, rnd)
            for w in WORDINGS:
                got = pc.ask(a.url, png, w.format(colour))
                tally[w]["right" if got == answer else "all objects" if got == f"count_{len(objects)}" else "other"] += 1
    print(f"| count question about one colour (held-out scenes of 1-3 shapes, seed {a.seed}) | right | the number of all objects | other | n |")
    print("|---|---:|---:|---:|---:|")
    for w in WORDINGS:
        t = tally[w]
        print(f"| {w.format('C')} | {t['right']} | {t['all objects']} | {t['other']} | {sum(t.values())} |")


if __name__ == "__main__":
    main()
