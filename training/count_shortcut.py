#!/usr/bin/env python3
"""How often a served model answers a count question about one colour with the number of all objects.

  python3 training/count_shortcut.py --url http://127.0.0.1:5000 [--scenes 50] [--seed 23]
  python3 training/count_shortcut.py --world "GENERATOR OPTIONS" [--count 3000] [--seed 3]

Draws held-out scenes of 1-3 shapes (no emoji) with `vqa-generate preview` (built in Release), asks each scene a few
English count questions about one colour (any of the eight, so some answers are 0) and prints, per wording, how often
the answer was right, how often it was the number of all objects instead (counting everything: the shortcut
`--count-distractors` trains against), and how often something else. The scenes are those of `training/paraphrase_check.py`
(its `held_out_scenes`).

With --world it asks no model: it prints how often, in the generator's English count questions of that world (training
split), the answer is the number of all objects, i.e. how often counting everything is right in the training data.
"""
import argparse, collections, json, os, random, shlex, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import paraphrase_check as pc  # noqa: E402

WORDINGS = ["How many {} shapes are there?", "How many {} objects are there?", "How many objects are {}?",
            "How many {} shapes can you see?", "How many shapes in the picture are {}?"]


def data_share(world, count, seed):
    """Prints the share of the world's count questions (English, training split) whose answer is the number of all objects."""
    tmp = tempfile.mkdtemp(prefix="count-shortcut-data-")
    subprocess.run(["dotnet", pc.GENERATOR, "preview", "--mix", "vqa=1", *shlex.split(world), "--languages", "en", "--questions", "count",
                    "--count", str(count), "--seed", str(seed), "--out", tmp], check=True, stdout=subprocess.DEVNULL)
    tally = collections.Counter()
    with open(os.path.join(tmp, "examples.jsonl")) as f:
        for line in f:
            ex = json.loads(line)
            s = ex["question"]["subject"]
            kind = "count-all" if not (s["shape"] or s["color"] or s["emoji"]) else "about a shape, a colour or both"
            tally[kind, int(ex["label"].split("_")[1]) == len(ex["objects"])] += 1
    n = sum(tally.values())
    print(f"| count questions ({world}; seed {seed}) | n | answer = number of all objects |")
    print("|---|---:|---:|")
    for kind in ("count-all", "about a shape, a colour or both"):
        k = tally[kind, True] + tally[kind, False]
        print(f"| {kind} | {k} | {100 * tally[kind, True] / max(k, 1):.1f}% |")
    print(f"| all | {n} | {100 * (tally['count-all', True] + tally['about a shape, a colour or both', True]) / n:.1f}% |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:5000")
    ap.add_argument("--scenes", type=int, default=50)
    ap.add_argument("--seed", type=int, help="held-out scenes' seed (default 23), or with --world the data's (default 3)")
    ap.add_argument("--world", help="measure the generator's data of this world (its options, as for vqa-generate) instead of a model")
    ap.add_argument("--count", type=int, default=3000, help="with --world: how many count questions")
    a = ap.parse_args()
    if a.world is not None:
        return data_share(a.world, a.count, 3 if a.seed is None else a.seed)
    a.seed = 23 if a.seed is None else a.seed
    rnd = random.Random(5)
    tally = collections.defaultdict(collections.Counter)
    for objects, png in pc.held_out_scenes(a.seed, a.scenes):
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
