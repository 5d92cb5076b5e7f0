#!/usr/bin/env python3
"""Questions in users' own words: VQA accuracy through a running service on held-out generated scenes, asked with
English wordings the generator never writes (its templates are in Generation/Languages/English.cs).

  python3 training/paraphrase_check.py --url http://127.0.0.1:5000 [--scenes 150] [--seed 11] [--out FILE.json]

Draws held-out scenes of 1-3 shapes (no emoji) with `vqa-generate preview` (built in Release), asks each scene the
questions below where their answer is defined, and prints accuracy by wording beside the same questions in the
generator's wording, then totals for three kinds: own words, the generator's templates, and the count-everything
wording the generator writes only with `--count-all`. The eval suite measures template questions only; a model that
learnt the templates and not the words shows it here.
"""
import argparse, collections, json, os, random, subprocess, sys, tempfile, urllib.request, uuid

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SHAPES = ["circle", "square", "triangle", "star", "heart", "cross", "diamond", "hexagon"]
COLORS = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "black"]


def ask(url, png, question):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"question\"\r\n\r\n{question}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"s.png\"\r\nContent-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(url.rstrip("/") + "/v1/vqa", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)["answers"][0]["label"]


def questions(objects, rnd):
    """(wording, question, answer) for one scene; a wording the generator writes is marked "(template)", or
    "(template with --count-all)" where only that generator option writes it."""
    out = []
    n = len(objects)
    shapes = collections.Counter(o["shape"] for o in objects)
    colors = collections.Counter(o["color"] for o in objects)
    out.append(("count all: how many shapes are there", "How many shapes are there?", f"count_{n}"))
    out.append(("count all: how many objects can you see (template with --count-all)", "How many objects can you see?", f"count_{n}"))
    c = rnd.choice(COLORS)
    k = colors.get(c, 0)
    out.append(("count colour: how many C shapes", f"How many {c} shapes are there?", f"count_{k}"))
    out.append(("count colour: how many C objects (template)", f"How many {c} objects are there?", f"count_{k}"))
    # Colour of the one object of a shape, shape of the one object of a colour (the first such, if any).
    asks = (("shape", shapes, "color", "colour: what color is the S (US spelling)", "What color is the {}?",
             "colour: what colour is the S (template)", "What colour is the {}?"),
            ("color", colors, "shape", "shape: what is the C shape", "What is the {} shape?",
             "shape: what shape is the C object (template)", "What shape is the {} object?"))
    for key, counts, asked, own, own_q, template, template_q in asks:
        value = next((v for v, m in counts.items() if m == 1), None)
        if value is not None:
            o = next(o for o in objects if o[key] == value)
            out.append((own, own_q.format(value), f"{asked}_{o[asked]}"))
            out.append((template, template_q.format(value), f"{asked}_{o[asked]}"))
    if objects and rnd.random() < 0.5:
        o = rnd.choice(objects); c, s, ans = o["color"], o["shape"], "yes"
    else:
        while True:
            c, s = rnd.choice(COLORS), rnd.choice(SHAPES)
            if not any(o["color"] == c and o["shape"] == s for o in objects):
                break
        ans = "no"
    out.append(("exists: do you see a C S in this image", f"Do you see a {c} {s} in this image?", ans))
    out.append(("exists: is there a C S (template)", f"Is there a {c} {s}?", ans))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:5000")
    ap.add_argument("--scenes", type=int, default=150)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--out", help="write the results as JSON")
    a = ap.parse_args()
    gen = os.path.join(REPO, "GeneratorTool", "bin", "Release", "net10.0", "vqa-generate.dll")
    tmp = tempfile.mkdtemp(prefix="paraphrase-")
    subprocess.run(["dotnet", gen, "preview", "--split", "heldout", "--seed", str(a.seed), "--size", str(a.size), "--mix", "vqa=1",
                    "--objects", "1-3", "--emoji-share", "0", "--languages", "en", "--count", str(a.scenes), "--out", tmp],
                   check=True, stdout=subprocess.DEVNULL)
    rnd = random.Random(a.seed)
    right, total = collections.Counter(), collections.Counter()
    with open(os.path.join(tmp, "examples.jsonl")) as f:
        for line in f:
            ex = json.loads(line)
            with open(os.path.join(tmp, f"{ex['index']:04d}-scene.png"), "rb") as g:
                png = g.read()
            for wording, q, answer in questions(ex["objects"], rnd):
                total[wording] += 1
                right[wording] += ask(a.url, png, q) == answer
    rows = sorted(total)
    def kind(w):
        return "template, --count-all" if "(template with --count-all)" in w else "template" if "(template)" in w else "own words"
    print(f"| wording (English, held-out scenes of 1-3 shapes, seed {a.seed}) | the generator's? | accuracy | n |")
    print("|---|---|---:|---:|")
    for w in rows:
        print(f"| {w} | {'no' if kind(w) == 'own words' else 'yes'} | {100 * right[w] / total[w]:.1f}% | {total[w]} |")
    for name in ("own words", "template", "template, --count-all"):
        ws = [w for w in rows if kind(w) == name]
        r, t = sum(right[w] for w in ws), sum(total[w] for w in ws)
        if t:
            print(f"| **all, {name}** | | **{100 * r / t:.1f}%** | {t} |")
    print(f"| **all questions** | | **{100 * sum(right.values()) / sum(total.values()):.1f}%** | {sum(total.values())} |")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({w: {"right": right[w], "n": total[w]} for w in rows}, f, indent=1)


if __name__ == "__main__":
    main()
