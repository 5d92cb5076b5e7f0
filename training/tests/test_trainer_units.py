"""Unit tests of the trainer's parts: the contrastive losses with same-content records, the staged schedule,
MLP head export, and a run resumed from another's state (weights, optimizer, step, stream position).

Run: /usr/bin/python3 training/tests/test_trainer_units.py (no pytest needed; CI runs it from
tests/Api.Tests/TrainingSmokeTests.cs), or python3 -m pytest training/tests/test_trainer_units.py.
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "training"))

import train  # noqa: E402
from clippo.export import export_heads, head_logits  # noqa: E402

FAKE = [sys.executable, os.path.join(HERE, "fake_generator.py")]


def _unit(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    return x / x.norm(dim=1, keepdim=True)


def test_masked_infonce_ignores_same_content_negatives():
    za, zb = _unit(6, 8, 1).requires_grad_(), _unit(6, 8, 2)
    keys = torch.tensor([5, 7, 5, 9, 0, 0])  # 0 and 2 say the same thing; key 0 means "unknown"
    same = train.same_content(keys)
    assert same[0, 2] and same[2, 0] and not same[4, 5] and int(same.sum()) == 2
    loss, sims = train.contrastive_loss(za, zb, torch.tensor(10.0), None, "softmax", same, "mask")
    # By hand: row i's softmax over the columns that are not i's same-content records.
    s = 10.0 * za @ zb.t()
    rows = []
    for i in range(6):
        keep = [j for j in range(6) if j == i or not bool(same[i, j])]
        rows.append(-F.log_softmax(s[i, keep], 0)[keep.index(i)])
    cols = []
    for j in range(6):
        keep = [i for i in range(6) if i == j or not bool(same[i, j])]
        cols.append(-F.log_softmax(s[keep, j], 0)[keep.index(j)])
    expected = 0.5 * (torch.stack(rows).mean() + torch.stack(cols).mean())
    assert torch.allclose(loss, expected, atol=1e-6), (loss, expected)
    # Moving record 2's B embedding does not change record 0's A row at all: only through its diagonal (row 2, column 2).
    unmasked, _ = train.contrastive_loss(za, zb, torch.tensor(10.0), None, "softmax", None, "mask")
    assert not torch.allclose(loss, unmasked)


def test_positive_mode_spreads_the_target_over_same_content_records():
    za, zb = _unit(4, 8, 3), _unit(4, 8, 4)
    same = train.same_content(torch.tensor([1, 1, 2, 3]))
    loss, _ = train.contrastive_loss(za, zb, torch.tensor(5.0), None, "softmax", same, "positive")
    s = 5.0 * za @ zb.t()
    t = torch.tensor([[.5, .5, 0, 0], [.5, .5, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    expected = 0.5 * (-(t * F.log_softmax(s, 1)).sum(1).mean() - (t * F.log_softmax(s.t(), 1)).sum(1).mean())
    assert torch.allclose(loss, expected, atol=1e-6)


def test_sigmoid_loss_is_siglip():
    za, zb = _unit(5, 8, 5), _unit(5, 8, 6)
    bias = torch.tensor([-3.0])
    loss, _ = train.contrastive_loss(za, zb, torch.tensor(10.0), bias, "sigmoid", None, "mask")
    logits = 10.0 * za @ zb.t() + bias
    z = 2 * torch.eye(5) - 1
    expected = -F.logsigmoid(z * logits).sum() / 5
    assert torch.allclose(loss, expected, atol=1e-6)
    same = train.same_content(torch.tensor([1, 1, 2, 3, 4]))
    masked, _ = train.contrastive_loss(za, zb, torch.tensor(10.0), bias, "sigmoid", same, "mask")
    per = -F.logsigmoid(z * logits)
    assert torch.allclose(masked, (per.sum() - per[0, 1] - per[1, 0]) / 5, atol=1e-6)


def test_staged_schedule_warms_up_once_and_decays_at_the_end():
    s = train.Schedule(1e-3, 100, 1000.0, 0, 0.0, "constant", 1.0, start_step=0)
    assert math.isclose(s(0, 0.0), 1e-5) and math.isclose(s(99, 10.0), 1e-3) and math.isclose(s(5000, 900.0), 1e-3)
    resumed = train.Schedule(1e-3, 100, 1000.0, 0, 0.0, "constant", 1.0, start_step=400)
    assert math.isclose(resumed(0, 0.0), 1e-3)  # no second warm-up
    last = train.Schedule(1e-3, 100, 1000.0, 0, 0.1, "decay", 0.5, start_step=400)
    assert math.isclose(last(0, 0.0), 1e-3) and math.isclose(last(10, 499.0), 1e-3)  # flat for the first half
    assert math.isclose(last(10, 750.0), 1e-3 * (0.1 + 0.9 * 0.5), rel_tol=1e-6)  # half-way down the cosine
    assert math.isclose(last(10, 1000.0), 1e-4, rel_tol=1e-6)


def test_mlp_heads_export_as_the_service_computes_them():
    torch.manual_seed(0)
    head = train.make_head(16, 27, 8)
    torch.nn.init.normal_(head[2].weight)  # make the output layer non-trivial
    x = _unit(10, 16, 7)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "heads.npz")
        export_heads({"vqa": head}, path, input_scale=3.0)
        z = np.load(path)
        assert z["vqa/hidden/kernel"].shape == (16, 8) and z["vqa/kernel"].shape == (8, 27)
        h = np.maximum(x.numpy() @ z["vqa/hidden/kernel"] + z["vqa/hidden/bias"], 0)
        logits = h @ z["vqa/kernel"] + z["vqa/bias"]
        helper = head_logits(z, "vqa", x.numpy())  # what the check scripts (kind_check.py, answer_check.py) use
    with torch.no_grad():
        expected = head(x * 3.0).numpy()
    assert np.allclose(logits, expected, atol=1e-5)
    assert np.allclose(helper, expected, atol=1e-5)


def _train(out, budget, *extra, generator=()):
    gen = " ".join(FAKE + ["stream", "--size", "32", "--seed", "1", *generator])
    cmd = [sys.executable, os.path.join(REPO, "training", "train.py"), "--config", "tiny", "--image", "32", "--time-budget", str(budget),
           "--margin", "5", "--workers", "2", "--batch", "16", "--lr", "1e-3", "--warmup", "5", "--log-every", "2", "--threads", "1",
           "--head-hidden", "8", "--generator", gen, "--out", out, *extra]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert r.returncode == 0, r.stdout.decode(errors="replace")[-3000:]
    return {**json.load(open(os.path.join(out, "config.json"))), "stdout": r.stdout.decode(errors="replace")}


def test_a_resumed_run_goes_on_where_the_last_one_stopped():
    with tempfile.TemporaryDirectory() as d:
        a, b = os.path.join(d, "a"), os.path.join(d, "b")
        first = _train(a, 15, "--schedule", "constant", "--stage", "one")
        st = torch.load(os.path.join(a, "state.pt"))
        # Only tensors and plain types, so PyTorch 2.6+ (the GPU machine has 2.11) loads it as weights only.
        assert _plain(st), "state.pt holds something a weights-only load refuses"
        steps = first["result"]["global_step"]
        assert steps > 3 and st["global_step"] == steps and st["head_hidden"] == 8
        assert st["data_next_start"] > 0 and st["data_next_start"] % 2 == 0  # two workers: a multiple of 2
        assert first["result"]["records"] <= st["data_next_start"]
        second = _train(b, 15, "--resume", a, "--schedule", "decay")
        assert second["global_step_start"] == steps and second["stream"]["start"] == st["data_next_start"]
        assert [s["stage"] for s in second["stages"]] == ["one", "stage2"]
        # The second run started from the first's weights, optimizer and step (its first logged step is steps + 1).
        log = [json.loads(x) for x in open(os.path.join(b, "train_log.jsonl"))]
        assert log[0]["global_step"] == steps + 1 and log[0]["lr"] > 0.5e-3  # no warm-up from zero again
        st2 = torch.load(os.path.join(b, "state.pt"))
        assert st2["global_step"] == second["result"]["global_step"] > steps
        adam = st2["optimizer"]["state"]
        assert int(next(iter(adam.values()))["step"]) == st2["global_step"]
        # Stream indexes of the second run start past everything the first one read.
        assert st2["data_next_start"] > st["data_next_start"]


def test_a_run_resumes_from_its_exported_files_alone():
    """What a GPU stage brings back (ckpt_fp16.npz, heads.npz, stage.json; no optimizer state) is enough to go on."""
    import shutil
    with tempfile.TemporaryDirectory() as d:
        a, light, b = os.path.join(d, "a"), os.path.join(d, "light"), os.path.join(d, "b")
        first = _train(a, 15, "--schedule", "constant", "--fp16-export")
        os.makedirs(light)
        for name in ("ckpt_fp16.npz", "heads.npz", "aux_heads.npz", "stage.json"):
            shutil.copy(os.path.join(a, name), light)
        st = json.load(open(os.path.join(light, "stage.json")))
        # The training-only heads come back too (aux_heads.npz), as they were at the end of the first run.
        full, back = torch.load(os.path.join(a, "state.pt"))["heads"], train.load_light_state(light)["heads"]
        for k in ("attributes.weight", "attributes.bias", "question.weight", "question.bias"):
            assert torch.equal(full[k], back[k]), k
        assert st["global_step"] == first["result"]["global_step"] and st["head_hidden"] == 8
        second = _train(b, 15, "--resume", light, "--schedule", "constant", "--rewarm", "10")
        assert second["global_step_start"] == st["global_step"] and second["stream"]["start"] == st["data_next_start"]
        log = [json.loads(x) for x in open(os.path.join(b, "train_log.jsonl"))]
        assert log[0]["global_step"] == st["global_step"] + 1 and log[0]["lr"] < 0.2e-3  # re-warming the fresh optimizer
        # The heads came back as trained: the exported heads of a zero-step continuation equal the originals.
        ha, hb = np.load(os.path.join(a, "heads.npz")), np.load(os.path.join(b, "heads.npz"))
        assert ha["vqa/hidden/kernel"].shape == hb["vqa/hidden/kernel"].shape


def test_question_loss_reads_type_colour_and_shape():
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(6, train.QUESTION_OUTPUTS, generator=g)
    qtypes = torch.tensor([0, 1, 2, 3, 4, 0])
    # flags (bit 0 known, bit 1 emoji, bits 2-4 a spatial question's relation + 1), colour + 1, shape + 1; the spatial
    # question (type 4) asks "above" (relation 2, stored 3); the last record says nothing about its question (flag 0)
    subjects = torch.tensor([[1, 1, 0], [1, 0, 4], [1, 6, 0], [1, 3, 2], [3 | 3 << 2, 0, 0], [0, 5, 5]], dtype=torch.uint8)
    relations = torch.tensor([0, 0, 0, 0, 3])
    assert train.QUESTION_OUTPUTS == 28
    loss, acc = train.question_loss(logits, qtypes, subjects)
    k = slice(0, 5)
    want = (F.cross_entropy(logits[k, :5], qtypes[k]) + F.cross_entropy(logits[k, 5:14], subjects[k, 1].long())
            + F.cross_entropy(logits[k, 14:23], subjects[k, 2].long()) + F.cross_entropy(logits[k, 23:28], relations))
    assert torch.allclose(loss, want)
    # Logits that name every part right: accuracy 1 and a loss near 0.
    right = torch.full((5, train.QUESTION_OUTPUTS), -20.0)
    for i in range(5):
        right[i, int(qtypes[i])] = right[i, 5 + int(subjects[i, 1])] = right[i, 14 + int(subjects[i, 2])] = 20.0
        right[i, 23 + int(relations[i])] = 20.0
    loss, acc = train.question_loss(right, qtypes[:5], subjects[:5])
    assert float(acc) == 1.0 and float(loss) < 1e-6
    right[4, 23 + 1] = 40.0  # the relation read wrong ("left of"): not right any more
    loss, acc = train.question_loss(right, qtypes[:5], subjects[:5])
    assert abs(float(acc) - 0.8) < 1e-6 and float(loss) > 1.0
    loss, acc = train.question_loss(logits[5:], qtypes[5:], subjects[5:])  # nothing known: no loss, no accuracy
    assert float(loss) == 0.0 and acc is None


def test_attribute_loss_spreads_the_pair_target_by_count():
    g = torch.Generator().manual_seed(5)
    logits = torch.randn(3, train.ATTRIBUTE_OUTPUTS, generator=g)
    # flags (1 on A, 8 count known, 16 pairs known), colour mask, shape mask, objects
    attrs = torch.tensor([[1 | 8 | 16, 0b1, 0b11, 3], [1 | 8, 0b10, 0b1, 1], [1 | 8 | 16, 0b100, 0b100, 1]], dtype=torch.uint8)
    pairs = torch.zeros(3, 64, dtype=torch.uint8)
    pairs[0, 8 * 0 + 0], pairs[0, 8 * 0 + 1] = 2, 1  # two red circles and a red square
    pairs[1, 8 * 1 + 0] = 1  # not known for this record (no flag 16): no pair term
    pairs[2, 8 * 2 + 2] = 1  # a yellow triangle
    without = train.attribute_loss(logits, attrs, None)
    with_pairs = train.attribute_loss(logits, attrs, pairs)
    lp = F.log_softmax(logits[:, 27:91], 1)
    want = -((2 / 3) * lp[0, 0] + (1 / 3) * lp[0, 1] + lp[2, 18]) / 2
    assert torch.allclose(with_pairs - without, want, atol=1e-5)


def test_record_view_reads_the_pair_counts():
    from clippo.data import RecordView
    raw = np.zeros((2, 64 + 12), np.uint8)
    raw[0, 32] = 0x21  # counts 0 and 1: 1 red circle, 2 red squares
    raw[0, 63] = 0xF0  # count 63 (black cross): 15
    view = RecordView(raw, 64)
    pc = view.pair_counts
    assert pc.shape == (2, 64) and pc[0, 0] == 1 and pc[0, 1] == 2 and pc[0, 63] == 15 and pc.sum() == 18 and pc[1].sum() == 0
    assert RecordView(raw[:, :44], 32).pair_counts is None  # a stream from before the 64-byte record header


def _plain(x):
    if isinstance(x, dict):
        return all(isinstance(k, (str, int)) and _plain(v) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return all(_plain(v) for v in x)
    return x is None or isinstance(x, (torch.Tensor, str, int, float, bool))


def test_a_state_that_does_not_load_goes_on_from_the_exported_files_beside_it():
    """Older states held numpy's random state, which PyTorch 2.6+ refuses to load by default (the first GPU
    continuation met it), and a state.pt can be damaged: the run then says so and goes on from ckpt.npz + heads.npz +
    stage.json in the same folder, re-warming fresh optimizer moments."""
    with tempfile.TemporaryDirectory() as d:
        a, b = os.path.join(d, "a"), os.path.join(d, "b")
        first = _train(a, 15, "--schedule", "constant")
        path = os.path.join(a, "state.pt")
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) // 2)
        second = _train(b, 15, "--resume", a, "--schedule", "constant", "--rewarm", "10")
        assert "state.pt does not load" in second["stdout"] and "going on from the exported files" in second["stdout"]
        assert second["global_step_start"] == first["result"]["global_step"]
        log = [json.loads(x) for x in open(os.path.join(b, "train_log.jsonl"))]
        assert log[0]["lr"] < 0.2e-3  # fresh optimizer moments, warmed up again
        os.remove(os.path.join(a, "stage.json"))  # nothing to go on from: refused, naming the file
        gen = " ".join(FAKE + ["stream", "--size", "32"])
        r = subprocess.run([sys.executable, os.path.join(REPO, "training", "train.py"), "--resume", a, "--out", os.path.join(d, "c"),
                            "--generator", gen, "--time-budget", "30"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        assert r.returncode != 0 and b"not a readable training state" in r.stdout, r.stdout[-2000:]


def test_the_question_loss_trains_and_a_state_from_before_it_resumes():
    with tempfile.TemporaryDirectory() as d:
        a, b = os.path.join(d, "a"), os.path.join(d, "b")
        _train(a, 15, "--schedule", "constant", "--question-weight", "1", "--max-steps", "6")
        log = [json.loads(x) for x in open(os.path.join(a, "train_log.jsonl")) if '"step"' in x]
        assert any(r.get("loss_question", 0) > 0 and "acc_question" in r for r in log), log
        # A state written before the question head existed: it resumes with fresh optimizer moments.
        path = os.path.join(a, "state.pt")
        st = torch.load(path)
        st["heads"] = {k: v for k, v in st["heads"].items() if not k.startswith("question.")}
        # ... and whose attribute head had fewer outputs (before the colour-shape pairs)
        st["heads"]["attributes.weight"], st["heads"]["attributes.bias"] = st["heads"]["attributes.weight"][:27], st["heads"]["attributes.bias"][:27]
        st["optimizer"]["state"] = {}
        st["optimizer"]["param_groups"][2]["params"] = st["optimizer"]["param_groups"][2]["params"][:-2]
        torch.save(st, path)
        gen = " ".join(FAKE + ["stream", "--size", "32", "--seed", "1"])
        r = subprocess.run([sys.executable, os.path.join(REPO, "training", "train.py"), "--resume", a, "--out", b, "--generator", gen,
                            "--time-budget", "15", "--margin", "5", "--workers", "2", "--batch", "16", "--threads", "1", "--max-steps", "3",
                            "--question-weight", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        out = r.stdout.decode(errors="replace")
        assert r.returncode == 0 and "lacks the heads ['attributes', 'question']" in out, out[-3000:]
        assert any(k.startswith("question.") for k in torch.load(os.path.join(b, "state.pt"))["heads"])


def test_position_loss_reads_the_colour_and_both_halves():
    g = torch.Generator().manual_seed(7)
    logits = torch.randn(4, train.POSITION_OUTPUTS, generator=g)
    # known | colour | left (8) | upper (16); the last record says nothing (0)
    where = torch.tensor([0x80 | 2 | 8, 0x80 | 5 | 16, 0x80 | 7 | 8 | 16, 0], dtype=torch.uint8)
    loss, acc = train.position_loss(logits, where)
    pick = torch.stack([logits[[0, 1, 2], [2, 5, 7]], logits[[0, 1, 2], [10, 13, 15]]], 1)
    want = F.binary_cross_entropy_with_logits(pick, torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    assert torch.allclose(loss, want)
    right = torch.full((3, train.POSITION_OUTPUTS), -20.0)  # every other colour's logits say the opposite: unread
    right[0, 2], right[1, 13], right[2, 7], right[2, 15] = 20.0, 20.0, 20.0, 20.0
    loss, acc = train.position_loss(right, where[:3])
    assert float(acc) == 1.0 and float(loss) < 1e-6
    loss, acc = train.position_loss(logits[3:], where[3:])
    assert float(loss) == 0.0 and acc is None


def test_the_position_loss_reads_a_vqa_canvas_through_its_own_logits():
    """A VQA canvas draws the scene below the question, so its 'upper half' is another line on the canvas than a scene
    canvas's: frame 1 reads logits 16 + c and 24 + c, frame 0 (and no frame) logits c and 8 + c."""
    assert train.POSITION_OUTPUTS == 32
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(3, train.POSITION_OUTPUTS, generator=g)
    where = torch.tensor([0x80 | 1 | 8, 0x80 | 4 | 16, 0x80 | 6], dtype=torch.uint8)
    frame = torch.tensor([0, 1, 1])
    loss, _ = train.position_loss(logits, where, frame)
    pick = torch.stack([logits[[0, 1, 2], [1, 20, 22]], logits[[0, 1, 2], [9, 28, 30]]], 1)
    want = F.binary_cross_entropy_with_logits(pick, torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
    assert torch.allclose(loss, want)
    # Without frames every canvas is read as a scene canvas, as before.
    assert torch.allclose(train.position_loss(logits, where)[0], train.position_loss(logits, where, torch.zeros(3, dtype=torch.long))[0])
    # Right in one frame and wrong in the other: the VQA canvases' logits are not the scene canvases'.
    right = torch.full((1, train.POSITION_OUTPUTS), -20.0)
    right[0, 28] = 20.0  # colour 4 in the VQA frame: not the left half (logit 20 stays -20), the upper half
    assert float(train.position_loss(right, where[1:2], frame[1:2])[1]) == 1.0
    assert float(train.position_loss(right, where[1:2], torch.zeros(1, dtype=torch.long))[1]) == 0.0


def test_the_position_loss_trains_is_not_exported_and_states_resume_either_way():
    with tempfile.TemporaryDirectory() as d:
        a, b, c = (os.path.join(d, x) for x in "abc")
        _train(a, 15, "--schedule", "constant", "--max-steps", "6")  # no position head
        _train(b, 15, "--schedule", "constant", "--max-steps", "6", "--resume", a, "--position-weight", "1")
        log = [json.loads(x) for x in open(os.path.join(b, "train_log.jsonl")) if '"step"' in x]
        assert any(r.get("loss_position", 0) > 0 and "acc_position" in r for r in log), log
        assert any(k.startswith("position.") for k in np.load(os.path.join(b, "aux_heads.npz")).files)
        assert not any("position" in k for k in np.load(os.path.join(b, "heads.npz")).files)  # training only
        assert torch.load(os.path.join(b, "state.pt"))["position_weight"] == 1.0
        assert json.load(open(os.path.join(b, "stage.json")))["position_weight"] == 1.0
        # Resumed without --position-weight, a run keeps the weight its state was trained with (from state.pt, from the
        # exported files alone, and from a state written before the weight was recorded, by its position head).
        light, old = os.path.join(d, "light"), os.path.join(d, "old")
        os.makedirs(light)
        for f in ("ckpt.npz", "heads.npz", "aux_heads.npz", "stage.json"):
            shutil.copy(os.path.join(b, f), light)
        st = torch.load(os.path.join(b, "state.pt"))
        del st["position_weight"]
        os.makedirs(old)
        torch.save(st, os.path.join(old, "state.pt"))
        for name, src in (("keep", b), ("keep-light", light), ("keep-old", old)):
            kept = _train(os.path.join(d, name), 15, "--schedule", "constant", "--max-steps", "3", "--resume", src)
            assert kept["args"]["position_weight"] == 1.0 and "as the resumed state was trained" in kept["stdout"], (name, kept["stdout"][-3000:])
            log = [json.loads(x) for x in open(os.path.join(d, name, "train_log.jsonl")) if '"step"' in x]
            assert any(r.get("loss_position", 0) > 0 for r in log), name
        # A new model has no position loss unless asked; a state without the head is resumed without it.
        assert json.load(open(os.path.join(a, "config.json")))["args"]["position_weight"] == 0.0
        # A state with the position head, resumed by a run that turns it off: the head is left out, the optimizer re-warmed.
        third = _train(c, 15, "--schedule", "constant", "--max-steps", "3", "--resume", b, "--position-weight", "0")
        assert "lacks the heads ['position']" in third["stdout"], third["stdout"][-3000:]
        assert not any(k.startswith("position.") for k in torch.load(os.path.join(c, "state.pt"))["heads"])


def test_the_order_loss_reads_which_object_comes_first_on_the_asked_axis():
    """'Is A left of B?' yes and 'is A right of B?' no both say A comes first across (logit 0); 'above' yes and 'below'
    no say it comes first down (logit 1); the other way round they say it does not. Questions without a relation, and
    answers that are not yes or no, are not asked."""
    yes = 25  # the generator's 27 answers end with yes, no
    rel = lambda r: 1 | (r + 1) << 2  # noqa: E731  flags: known, relation + 1 in bits 2-4
    subjects = torch.tensor([[rel(0), 0, 0], [rel(1), 0, 0], [rel(1), 0, 0], [rel(2), 0, 0], [rel(3), 0, 0], [rel(3), 0, 0],
                             [1, 3, 0], [rel(0), 0, 0], [rel(2) & ~1, 0, 0]], dtype=torch.uint8)
    labels = torch.tensor([yes, yes, yes + 1, yes + 1, yes, yes + 1, yes, 4, yes])
    g = torch.Generator().manual_seed(5)
    logits = torch.randn(9, train.ORDER_OUTPUTS, generator=g)
    known, pick, target = train.order_picks(logits, labels, subjects, yes)
    assert known.tolist() == [True] * 6 + [False] * 3
    assert torch.equal(pick, logits[[0, 1, 2, 3, 4, 5], [0, 0, 0, 1, 1, 1]])
    assert target.tolist() == [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    loss, acc = train.order_loss(logits, labels, subjects, yes)
    assert torch.allclose(loss, F.binary_cross_entropy_with_logits(pick, target))
    right = torch.tensor([[-5.0, 5.0]]).repeat(9, 1)  # "not first across, first down" for every canvas
    assert abs(float(train.order_loss(right, labels, subjects, yes)[1]) - 2 / 6) < 1e-6  # rows 1 and 5: right of yes, below no
    # A batch without a spatial question adds nothing.
    none = train.order_loss(logits[6:7], labels[6:7], subjects[6:7], yes)
    assert float(none[0]) == 0.0 and none[1] is None


def test_the_order_loss_trains_is_not_exported_and_a_resumed_run_keeps_it():
    spatial = ("--spatial-share", "0.5", "--mix", "caption=1,vqa=3")
    with tempfile.TemporaryDirectory() as d:
        a, b, c = (os.path.join(d, x) for x in "abc")
        _train(a, 15, "--schedule", "constant", "--max-steps", "6", "--order-weight", "1", generator=spatial)
        log = [json.loads(x) for x in open(os.path.join(a, "train_log.jsonl")) if '"step"' in x]
        assert any(r.get("loss_order", 0) > 0 and "acc_order" in r for r in log), log
        assert any(k.startswith("order.") for k in np.load(os.path.join(a, "aux_heads.npz")).files)
        assert not any("order" in k for k in np.load(os.path.join(a, "heads.npz")).files)  # training only
        assert json.load(open(os.path.join(a, "stage.json")))["order_weight"] == 1.0
        kept = _train(b, 15, "--schedule", "constant", "--max-steps", "3", "--resume", a, generator=spatial)
        assert kept["args"]["order_weight"] == 1.0 and "--order-weight 1, as the resumed state was trained" in kept["stdout"]
        assert torch.load(os.path.join(b, "state.pt"))["order_weight"] == 1.0
        # Without spatial questions in the stream, the loss is 0 and nothing fails.
        _train(c, 15, "--schedule", "constant", "--max-steps", "3", "--order-weight", "1")
        assert all(r.get("loss_order", 0) == 0 for r in (json.loads(x) for x in open(os.path.join(c, "train_log.jsonl")) if '"step"' in x))


def test_the_sincos2d_position_embedding_is_fixed_exported_and_known_again():
    from clippo.export import config_from_npz, export_npz, load_npz
    from clippo.model import ClippoViT, get_config
    cfg = get_config("tiny", image=64, posemb="sincos2d")  # a 4 x 4 grid of 16 px patches, width 64
    model = ClippoViT(cfg)
    assert "pos_embedding" not in dict(model.named_parameters())  # fixed: nothing trains it
    pe = model.pos_embedding[0].double()
    q, g = cfg.width // 4, 4
    for t, k in [(0, 0), (5, 3), (6, q - 1), (15, 7)]:  # token t = row * 4 + column
        y, x = divmod(t, g)
        w = 10_000.0 ** -(k / (q - 1))
        assert abs(float(pe[t, k]) - math.sin(x * w)) < 1e-6 and abs(float(pe[t, q + k]) - math.cos(x * w)) < 1e-6
        assert abs(float(pe[t, 2 * q + k]) - math.sin(y * w)) < 1e-6 and abs(float(pe[t, 3 * q + k]) - math.cos(y * w)) < 1e-6
    # The lowest frequency rises along every row, so left and right are a linear read-out; mirrored columns differ.
    across, down = pe[:, q - 1].reshape(g, g), pe[:, 3 * q - 1].reshape(g, g)
    assert bool((across[:, 1:] > across[:, :-1]).all()) and bool((down[1:] > down[:-1]).all())
    grid = pe.reshape(g, g, -1)
    assert float((grid[:, 0] - grid[:, g - 1]).norm(dim=-1).min()) > 1.0
    with tempfile.TemporaryDirectory() as d:
        for fp16 in (False, True):
            path = os.path.join(d, f"ckpt{int(fp16)}.npz")
            export_npz(model, path, fp16=fp16)
            assert config_from_npz(path).posemb == "sincos2d", fp16  # known by its values, to float16's rounding
            back = load_npz(path)
            assert torch.equal(back.pos_embedding, model.pos_embedding)
        learned = os.path.join(d, "learned.npz")
        export_npz(ClippoViT(get_config("tiny", image=64)), learned)
        assert config_from_npz(learned).posemb == "learn"
        # A learned checkpoint loaded into a sincos2d model: everything but the position embedding comes from the file.
        swapped = load_npz(learned, ClippoViT(cfg))
        assert torch.equal(swapped.pos_embedding, model.pos_embedding)
        assert torch.equal(swapped.head.weight, load_npz(learned).head.weight)


def test_a_sincos2d_run_keeps_its_position_embedding_and_resumes_with_it():
    from clippo.model import sincos2d_posemb
    with tempfile.TemporaryDirectory() as d:
        a, b, c = (os.path.join(d, x) for x in "abc")
        first = _train(a, 15, "--schedule", "constant", "--max-steps", "6", "--posemb", "sincos2d")
        assert first["model"]["posemb"] == "sincos2d" and "sincos2d position embedding" in first["stdout"]
        fixed = sincos2d_posemb(2, 64)  # 32 px canvases in 16 px patches, width 64
        assert torch.equal(torch.load(os.path.join(a, "state.pt"))["model"]["pos_embedding"], fixed)  # trained, and unchanged
        second = _train(b, 15, "--schedule", "constant", "--max-steps", "3", "--resume", a)
        assert second["model"]["posemb"] == "sincos2d"
        # From a learned model's checkpoint, --posemb sincos2d replaces its embedding and trains on.
        learned = _train(c, 15, "--schedule", "constant", "--max-steps", "3")
        assert learned["model"]["posemb"] == "learn"
        swapped = _train(os.path.join(d, "d"), 15, "--schedule", "constant", "--max-steps", "3", "--init", os.path.join(c, "ckpt.npz"),
                         "--posemb", "sincos2d")
        assert "is replaced" in swapped["stdout"] and swapped["model"]["posemb"] == "sincos2d"
        # A resumed learned run can switch too (its optimizer moments rebuilt), and back: the learned one starts at sincos2d.
        switched = _train(os.path.join(d, "e"), 15, "--schedule", "constant", "--max-steps", "3", "--resume", c, "--posemb", "sincos2d")
        assert "is replaced; fresh optimizer moments" in switched["stdout"] and switched["model"]["posemb"] == "sincos2d"
        st = torch.load(os.path.join(d, "e", "state.pt"))
        assert torch.equal(st["model"]["pos_embedding"], fixed) and st["config"]["posemb"] == "sincos2d"
        back = _train(os.path.join(d, "f"), 15, "--schedule", "constant", "--max-steps", "1", "--resume", os.path.join(d, "e"),
                      "--posemb", "learn", "--lr", "0")
        assert back["model"]["posemb"] == "learn"
        assert torch.equal(torch.load(os.path.join(d, "f", "state.pt"))["model"]["pos_embedding"], fixed)  # learning rate 0: as it began


def _resume_with_fewer_rows(head, rows, *args):
    """Trains 3 steps with ARGS, cuts the state's HEAD to its first ROWS outputs (as an older trainer wrote it) and
    resumes it for one step at learning rate 0. Returns (the resumed run's output, the rows it had, its heads now)."""
    with tempfile.TemporaryDirectory() as d:
        a, b = os.path.join(d, "a"), os.path.join(d, "b")
        _train(a, 15, "--schedule", "constant", "--max-steps", "3", *args)
        path = os.path.join(a, "state.pt")
        st = torch.load(path)
        old = {k: st["heads"][k][:rows].clone() for k in (f"{head}.weight", f"{head}.bias")}
        st["heads"].update(old)
        torch.save(st, path)
        run = _train(b, 15, "--schedule", "constant", "--max-steps", "1", "--resume", a, "--lr", "0", *args)
        return run["stdout"], old, torch.load(os.path.join(b, "state.pt"))["heads"]


def test_a_state_whose_question_head_had_fewer_outputs_keeps_its_rows():
    """States from before the relation outputs (23 question outputs): the rows they had go on, the new ones start afresh."""
    out, old, now = _resume_with_fewer_rows("question", 23, "--question-weight", "1")
    assert "its rows are kept" in out, out[-2000:]
    assert now["question.weight"].shape[0] == train.QUESTION_OUTPUTS
    assert torch.equal(now["question.weight"][:23], old["question.weight"]) and torch.equal(now["question.bias"][:23], old["question.bias"])


def test_a_state_whose_position_head_had_one_frame_starts_the_vqa_frame_as_a_copy():
    """States from before the VQA canvas's own position logits (16 outputs): the scene frame's rows go on and the VQA
    frame starts as their copy, with fresh optimizer moments."""
    out, old, now = _resume_with_fewer_rows("position", 16, "--position-weight", "1")
    assert "the resumed position head has fewer outputs" in out and "fresh optimizer moments" in out, out[-2000:]
    assert now["position.weight"].shape[0] == train.POSITION_OUTPUTS
    for k in ("position.weight", "position.bias"):
        assert torch.equal(now[k][:16], old[k]) and torch.equal(now[k][16:], old[k]), k


def test_a_student_distils_from_a_teacher_and_can_start_from_its_heads():
    """--teacher: the student's embeddings are pulled towards a frozen teacher's (1 - cosine); --teacher-heads starts
    the student's heads as the teacher's; a teacher that embeds to another width is refused."""
    with tempfile.TemporaryDirectory() as d:
        t, s, s2, s3 = (os.path.join(d, x) for x in ("teacher", "s", "s2", "s3"))
        _train(t, 15, "--schedule", "constant", "--max-steps", "8")
        # Learning rate 0: the student's heads stay exactly what they started as, the teacher's.
        # (with the VQA canvases left out of the distillation: the other path through the loss)
        run = _train(s, 15, "--schedule", "constant", "--max-steps", "2", "--lr", "0", "--teacher", t, "--teacher-heads", "--distill-vqa", "off")
        assert "--teacher-heads:" in run["stdout"] and "pair" in run["stdout"] and "vqa" in run["stdout"], run["stdout"][-2000:]
        ht, hs = np.load(os.path.join(t, "heads.npz")), np.load(os.path.join(s, "heads.npz"))
        for k in ("vqa/kernel", "vqa/hidden/kernel", "pair/bias"):
            assert np.array_equal(ht[k], hs[k]), k
        log = [r for r in map(json.loads, open(os.path.join(s, "train_log.jsonl"))) if "step" in r and "loss" in r]
        assert log and all(0.0 < r["loss_distill"] < 100.0 for r in log), [r["loss_distill"] for r in log]
        # Distillation alone (every other loss off) brings the student's embeddings to the teacher's.
        # At scale 50 each canvas must pick out its own teacher embedding (the tiny teacher's own scale, about 10, leaves a
        # target so flat that the loss starts near its floor).
        _train(s2, 40, "--schedule", "constant", "--max-steps", "60", "--lr", "3e-3", "--teacher", t, "--distill-weight", "1", "--distill-scale", "50",
               "--vqa-weight", "0", "--pair-weight", "0", "--question-weight", "0", "--attribute-weight", "0", "--seed", "4")
        log = [r for r in map(json.loads, open(os.path.join(s2, "train_log.jsonl"))) if "step" in r and "loss" in r]
        first, last = log[0]["loss_distill"], np.mean([r["loss_distill"] for r in log[-3:]])
        assert last < 0.5 * first, (first, last)
        # Without a teacher there is no distillation loss.
        _train(s3, 15, "--schedule", "constant", "--max-steps", "2")
        log = [r for r in map(json.loads, open(os.path.join(s3, "train_log.jsonl"))) if "step" in r and "loss" in r]
        assert log and all(r["loss_distill"] == 0.0 and r["loss_distill_answers"] == 0.0 for r in log)
        gen = " ".join(FAKE + ["stream", "--size", "32", "--seed", "1"])
        r = subprocess.run([sys.executable, os.path.join(REPO, "training", "train.py"), "--config", "mini", "--patch", "16", "--image", "32",
                            "--teacher", t, "--out", os.path.join(d, "o"), "--generator", gen, "--time-budget", "30", "--threads", "1"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        assert r.returncode != 0 and b"embeds to 64 dimensions" in r.stdout, r.stdout[-2000:]


def test_answer_distillation_brings_the_students_answers_to_the_teachers():
    """--distill-answers: on the VQA canvases of the chosen question types the student's VQA head is pulled towards the
    teacher's answer distribution; alone (every other loss off, VQA records only) that loss falls and the student comes
    to give the teacher's answers; without a teacher, or with a type that does not exist, the run is refused."""
    with tempfile.TemporaryDirectory() as d:
        t, s = os.path.join(d, "teacher"), os.path.join(d, "s")
        one = ("--workers", "1")  # one generator process: the same records in the same order on every run
        _train(t, 40, "--schedule", "constant", "--max-steps", "120", "--lr", "3e-3", *one)
        # Held-out VQA canvases.
        from clippo.data import ShardLoader, to_device
        shard = os.path.join(d, "vqa.bin")
        subprocess.run(FAKE + ["shard", "--size", "32", "--seed", "7", "--split", "heldout", "--mix", "vqa=1", "--count", "200",
                               "--out", shard], check=True)
        db = to_device(ShardLoader([shard], 200).next(), torch.device("cpu"))
        assert db.n_vqa == 200

        def embed(folder):
            """The exported checkpoint's embeddings of the held-out canvases (L2-normalised, as heads.npz reads them)."""
            ckpt = os.path.join(folder, "ckpt.npz")
            model = train.ClippoViT(train.config_from_npz(ckpt))
            train.load_npz(ckpt, model)
            model.eval()
            with torch.no_grad():
                return model(db.images)[0].numpy()

        # A teacher whose answers vary with the canvas (this tiny one's own VQA head gives one answer to all, and its
        # embeddings lie close to their mean): a VQA head drawn at random that reads each embedding's offset from the mean.
        e = embed(t)
        path = os.path.join(t, "heads.npz")
        with np.load(path) as z:
            heads = {k: z[k] for k in z.files}
        rng = np.random.default_rng(3)
        k1 = rng.standard_normal(heads["vqa/hidden/kernel"].shape)
        k1 /= ((e - e.mean(0)) @ k1).std(0, keepdims=True)
        heads["vqa/hidden/kernel"] = k1.astype(np.float32)
        heads["vqa/hidden/bias"] = (-(e.mean(0) @ k1)).astype(np.float32)
        heads["vqa/kernel"] = rng.standard_normal(heads["vqa/kernel"].shape).astype(np.float32)
        np.savez(path, **heads)
        # The student starts from the teacher's encoder with heads of its own, so it has the teacher's answers to learn.
        init = ("--init", os.path.join(t, "ckpt.npz"), "--seed", "5", *one)
        s0 = os.path.join(d, "s0")  # the student as it starts: learning rate 0
        _train(s0, 15, "--schedule", "constant", "--max-steps", "1", "--lr", "0", *init, generator=("--mix", "vqa=1"))
        run = _train(s, 40, "--schedule", "constant", "--max-steps", "80", "--lr", "3e-3", *init, "--teacher", t, "--distill-weight", "0",
                     "--distill-answers", "1", "--distill-temperature", "1", "--vqa-weight", "0", "--pair-weight", "0",
                     "--question-weight", "0", "--attribute-weight", "0", generator=("--mix", "vqa=1"))
        assert "answers of count,color,shape,exists distilled at weight 1" in run["stdout"], run["stdout"][-2000:]
        log = [r for r in map(json.loads, open(os.path.join(s, "train_log.jsonl"))) if "step" in r and "loss" in r]
        assert log and all(r["loss_distill"] == 0.0 for r in log)  # the relational loss is off at weight 0
        first, last = log[0]["loss_distill_answers"], np.mean([r["loss_distill_answers"] for r in log[-3:]])
        assert first > 0.0 and last < 0.5 * first, (first, last)  # 0.60 to 0.20 measured

        # The exported heads, computed as the service computes them: on held-out VQA canvases the student now gives the
        # teacher's answers.
        from clippo.export import head_logits
        answers = []
        for folder in (t, s0, s):
            with np.load(os.path.join(folder, "heads.npz")) as heads:
                answers.append(torch.from_numpy(head_logits(heads, "vqa", embed(folder)).argmax(-1)))
        before, after = (float((answers[0] == a).float().mean()) for a in answers[1:])
        print(f"answer distillation: loss {first:.2f} -> {last:.2f}, share of the teacher's answers {before:.2f} -> {after:.2f}", flush=True)
        assert int((answers[0].bincount(minlength=9) >= 10).sum()) >= 3  # the teacher answers at least three ways
        # The teacher's answers are a random function of its embedding; the student gave 0.39 of them as it started
        # (the teacher's encoder, its own heads) and 0.73 after 80 steps, measured.
        assert after > 0.6 and after > before + 0.2, (before, after)

        # Only the chosen types: these canvases ask no spatial question (the fake's --spatial-share is 0), so nothing is distilled.
        none = os.path.join(d, "none")
        _train(none, 15, "--schedule", "constant", "--max-steps", "3", "--teacher", t, "--distill-weight", "0", "--distill-answers", "1",
               "--distill-answer-types", "spatial", generator=("--mix", "vqa=1"))
        log = [r for r in map(json.loads, open(os.path.join(none, "train_log.jsonl"))) if "step" in r and "loss" in r]
        assert log and all(r["loss_distill_answers"] == 0.0 for r in log)

        gen = " ".join(FAKE + ["stream", "--size", "32", "--seed", "1"])
        for extra, message in ((["--distill-answers", "1"], b"--distill-answers needs --teacher"),
                               (["--teacher", t, "--distill-answers", "1", "--distill-answer-types", "colour,size"], b"unknown type(s) colour, size")):
            r = subprocess.run([sys.executable, os.path.join(REPO, "training", "train.py"), "--config", "tiny", "--image", "32",
                                "--out", os.path.join(d, "o"), "--generator", gen, "--time-budget", "30", "--threads", "1", *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
            assert r.returncode != 0 and message in r.stdout, r.stdout[-2000:]


def test_the_cpu_gelu_is_flax_gelu_forward_and_backward():
    """The trainer's GELU for bfloat16 on the CPU (x * sigmoid(2u), a custom autograd function) is
    F.gelu(approximate="tanh"): values and gradients, also far out where tanh saturates."""
    from clippo.model import _GeluTanhCpu, gelu_tanh
    x = torch.cat([torch.linspace(-30, 30, 601, dtype=torch.float64), torch.randn(400, dtype=torch.float64) * 3])
    assert torch.autograd.gradcheck(_GeluTanhCpu.apply, (x[::10].clone().requires_grad_(True),))
    a, b = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ya, yb = _GeluTanhCpu.apply(a), F.gelu(b, approximate="tanh")
    w = torch.randn_like(ya)
    (ya * w).sum().backward()
    (yb * w).sum().backward()
    assert torch.allclose(ya, yb, atol=1e-12, rtol=1e-12) and torch.allclose(a.grad, b.grad, atol=1e-12, rtol=1e-10)
    xf = x.float()
    assert (_GeluTanhCpu.apply(xf) - F.gelu(xf, approximate="tanh")).abs().max() < 2e-6
    xb = x.to(torch.bfloat16).requires_grad_(True)
    yb = gelu_tanh(xb)
    assert yb.dtype == torch.bfloat16 and type(yb.grad_fn).__name__ == "_GeluTanhCpuBackward"  # bfloat16 takes it
    assert type(gelu_tanh(xf.requires_grad_(True)).grad_fn).__name__ != "_GeluTanhCpuBackward"  # float32 keeps PyTorch's
    xb = xb.detach()
    err = (gelu_tanh(xb).double() - F.gelu(xb.double(), approximate="tanh")).abs() / (xb.double().abs() + 1)
    assert err.max() < 0.01, err.max()  # bfloat16's own rounding (8 significant bits)


def test_bfloat16_products_on_the_cpu_keep_the_float32_model():
    """--precision bf16 on the CPU: the matrix products run in bfloat16 under autocast while LayerNorm and the embedding's
    normalisation stay float32; the same weights embed nearly as in float32; a run trains, saves float32 weights, says so."""
    from clippo.model import ClippoViT, get_config
    torch.manual_seed(0)
    model = ClippoViT(get_config("mini", image=32, patch=8)).eval()
    x = torch.rand(6, 32, 32, 3) * 2 - 1
    seen = {}
    hooks = [model.blocks[0].mlp.fc1.register_forward_hook(lambda m, i, o: seen.__setitem__("fc1", o.dtype)),
             model.blocks[0].ln1.register_forward_hook(lambda m, i, o: seen.__setitem__("ln1", o.dtype))]
    with torch.no_grad():
        e32 = model(x)[0]
        assert seen == {"fc1": torch.float32, "ln1": torch.float32}, seen
        with torch.autocast("cpu", dtype=torch.bfloat16):
            e16 = model(x)[0]
    for h in hooks:
        h.remove()
    assert seen == {"fc1": torch.bfloat16, "ln1": torch.float32}, seen  # autocast acted, LayerNorm stayed float32
    assert e16.dtype == torch.float32
    cos = (e32 * e16).sum(-1)
    assert cos.min() > 0.98 and cos.min() < 1.0 - 1e-7, cos  # close, and not the float32 computation again
    with tempfile.TemporaryDirectory() as d:
        # Where the CPU has no bfloat16 instructions the trainer refuses bf16 (see the next test); the run here then
        # takes the emulation on purpose, so that the bfloat16 path is tested on every machine.
        native = train.cpu_bfloat16_instructions() is not False
        run = _train(os.path.join(d, "a"), 20, "--schedule", "constant", "--max-steps", "12", "--precision", "bf16",
                     *([] if native else ["--allow-emulated-bf16"]))
        assert "bfloat16 products" in run["stdout"] and run["args"]["precision"] == "bf16", run["stdout"][-2000:]
        log = [r for r in map(json.loads, open(os.path.join(d, "a", "train_log.jsonl"))) if "step" in r and "loss" in r]
        assert log and all(math.isfinite(r["loss"]) for r in log)
        st = torch.load(os.path.join(d, "a", "state.pt"))
        assert all(v.dtype == torch.float32 for v in st["model"].values() if v.is_floating_point())
        plain = _train(os.path.join(d, "b"), 20, "--schedule", "constant", "--max-steps", "2")
        assert "float32 products" in plain["stdout"] and plain["args"]["precision"] == "auto"


def test_bfloat16_is_refused_on_a_cpu_without_bfloat16_instructions():
    """PyTorch emulates bfloat16 products where the CPU has neither AVX512-BF16 nor AMX (an AVX2-only EPYC: 25 `mini` steps
    that take 22 s in float32 had not finished after five minutes), so --precision bf16 is refused there by name."""
    with tempfile.TemporaryDirectory() as d:
        def info(flags):
            path = os.path.join(d, f"cpuinfo-{len(flags)}")
            with open(path, "w") as f:
                f.write("".join(f"processor\t: {i}\nmodel name\t: AMD EPYC\nflags\t\t: {flags}\n\n" for i in range(2)))
            return path
        assert train.cpu_bfloat16_instructions(info("fpu sse2 avx avx2 fma avx512f avx512_vnni")) is False
        assert train.cpu_bfloat16_instructions(info("fpu avx2 avx512f avx512_bf16")) is True
        assert train.cpu_bfloat16_instructions(info("fpu avx2 amx_tile amx_bf16")) is True
        assert train.cpu_bfloat16_instructions(os.path.join(d, "missing")) is None
        with open(os.path.join(d, "empty"), "w"):
            pass
        assert train.cpu_bfloat16_instructions(os.path.join(d, "empty")) is None
        if train.cpu_bfloat16_instructions() is False:  # this machine: the trainer must refuse before any work
            gen = " ".join(FAKE + ["stream", "--size", "32", "--seed", "1"])
            r = subprocess.run([sys.executable, os.path.join(REPO, "training", "train.py"), "--config", "tiny", "--image", "32",
                                "--time-budget", "20", "--margin", "5", "--batch", "16", "--threads", "1", "--precision", "bf16",
                                "--generator", gen, "--out", os.path.join(d, "run")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
            assert r.returncode != 0 and "no bfloat16 instructions" in r.stdout and "--precision fp32" in r.stdout, r.stdout[-2000:]
            assert not os.path.exists(os.path.join(d, "run", "train_log.jsonl"))


def test_resume_refuses_what_it_cannot_use():
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "state.pt")
        with open(bad, "wb") as f:
            f.write(b"not a state")
        gen = " ".join(FAKE + ["stream", "--size", "32"])
        r = subprocess.run([sys.executable, os.path.join(REPO, "training", "train.py"), "--resume", bad, "--out", os.path.join(d, "o"),
                            "--generator", gen, "--time-budget", "30"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        assert r.returncode != 0 and b"not a readable training state" in r.stdout, r.stdout[-2000:]


def test_averaged_states_are_the_weighted_mean_and_resume():
    """training/average_states.py: the element-wise weighted mean of states of one shape, counters of the furthest,
    a history entry naming its inputs; the trainer goes on from it; states of another shape are refused."""
    with tempfile.TemporaryDirectory() as d:
        a = os.path.join(d, "a")
        _train(a, 10, "--schedule", "constant", "--stage", "one")
        x, y, soup = os.path.join(d, "x"), os.path.join(d, "y"), os.path.join(d, "soup")
        names = ("ckpt.npz", "heads.npz", "aux_heads.npz")
        for f in (x, y):
            os.makedirs(f)
            for n in names + ("stage.json",):
                shutil.copy(os.path.join(a, n), f)
        rng = np.random.default_rng(3)
        for n in names:  # y: every tensor moved, as another arm would have moved it
            z = dict(np.load(os.path.join(a, n)))
            np.savez(os.path.join(y, n), **{k: v + rng.normal(size=v.shape).astype(v.dtype) for k, v in z.items()})
        sy = json.load(open(os.path.join(y, "stage.json")))
        base_step = sy["global_step"]
        sy.update(global_step=base_step + 7, data_next_start=sy["data_next_start"] + 100)
        json.dump(sy, open(os.path.join(y, "stage.json"), "w"))
        tool = [sys.executable, os.path.join(REPO, "training", "average_states.py")]
        r = subprocess.run(tool + [x, y, "--out", soup, "--weights", "1,3"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        assert r.returncode == 0, r.stdout
        for n in names:
            zx, zy, zs = np.load(os.path.join(x, n)), np.load(os.path.join(y, n)), np.load(os.path.join(soup, n))
            assert set(zs.files) == set(zx.files)
            for k in zx.files:
                assert np.allclose(zs[k], 0.25 * zx[k] + 0.75 * zy[k], atol=1e-6), (n, k)
        st = json.load(open(os.path.join(soup, "stage.json")))
        assert st["global_step"] == base_step + 7 and st["data_next_start"] == sy["data_next_start"]
        assert st["stages"][-1]["event"] == "average" and [o["weight"] for o in st["stages"][-1]["of"]] == [0.25, 0.75]
        b = _train(os.path.join(d, "b"), 10, "--resume", soup, "--schedule", "constant", "--rewarm", "5")
        assert b["global_step_start"] == base_step + 7 and b["stream"]["start"] == sy["data_next_start"]
        # The history with the average in it still loads as weights only (PyTorch 2.6+ on the GPU machine).
        st_b = torch.load(os.path.join(d, "b", "state.pt"))
        assert _plain(st_b) and any(h.get("event") == "average" for h in st_b["stages"])
        # Another model shape (here: another head width) is refused by name, and nothing is written.
        sy["head_hidden"] = 16
        json.dump(sy, open(os.path.join(y, "stage.json"), "w"))
        r = subprocess.run(tool + [x, y, "--out", os.path.join(d, "bad")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        assert r.returncode != 0 and "head_hidden" in r.stdout and not os.path.exists(os.path.join(d, "bad")), r.stdout


def test_a_grown_state_computes_what_it_grew_from_and_trains_its_new_blocks():
    """training/grow_state.py: identity blocks inserted between the trained ones leave every embedding as it was; the
    trainer goes on from the grown state at the new depth and moves the new blocks; a depth that is not more is refused."""
    from clippo.export import load_npz
    with tempfile.TemporaryDirectory() as d:
        a, grown, b = os.path.join(d, "a"), os.path.join(d, "grown"), os.path.join(d, "b")
        _train(a, 10, "--schedule", "constant", "--stage", "one")
        tool = [sys.executable, os.path.join(REPO, "training", "grow_state.py")]
        r = subprocess.run(tool + [a, "--depth", "4", "--out", grown], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        assert r.returncode == 0, r.stdout
        old, new = load_npz(os.path.join(a, "ckpt.npz")), load_npz(os.path.join(grown, "ckpt.npz"))
        assert old.cfg.depth == 2 and new.cfg.depth == 4
        x = torch.rand(3, old.cfg.image, old.cfg.image, 3) * 2 - 1  # NHWC
        with torch.no_grad():
            e_old, e_new = old(x)[0], new(x)[0]
        assert torch.allclose(e_old, e_new, atol=1e-5), (e_old - e_new).abs().max()
        # The new blocks (after each trained one: positions 1 and 3) are not copies of the trained ones.
        assert not torch.equal(new.blocks[1].attn.query.weight, old.blocks[0].attn.query.weight)
        assert torch.count_nonzero(new.blocks[1].attn.out.weight) == 0 and torch.count_nonzero(new.blocks[3].mlp.fc2.weight) == 0
        st = json.load(open(os.path.join(grown, "stage.json")))
        sa = json.load(open(os.path.join(a, "stage.json")))
        assert st["config"]["depth"] == 4 and st["global_step"] == sa["global_step"]
        assert st["stages"][-1]["event"] == "grow" and st["stages"][-1]["new_blocks"] == [1, 3]
        for n in ("heads.npz", "aux_heads.npz"):
            assert open(os.path.join(grown, n), "rb").read() == open(os.path.join(a, n), "rb").read()
        resumed = _train(b, 10, "--resume", grown, "--schedule", "constant", "--rewarm", "5")
        assert resumed["global_step_start"] == sa["global_step"]
        trained = load_npz(os.path.join(b, "ckpt.npz"))
        assert trained.cfg.depth == 4 and torch.count_nonzero(trained.blocks[1].attn.out.weight) > 0
        r = subprocess.run(tool + [a, "--depth", "2", "--out", os.path.join(d, "bad")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        assert r.returncode != 0 and "not more than the state's depth 2" in r.stdout and not os.path.exists(os.path.join(d, "bad")), r.stdout


def test_log_phases_averages_equal_parts_of_a_run():
    """training/log_phases.py: the mean of a logged field over equal parts of the lines that carry it."""
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "train_log.jsonl")
        with open(log, "w") as f:
            for i in range(10):
                f.write(json.dumps({"step": i, "acc_vqa": i / 10}) + "\n")
            f.write(json.dumps({"event": "end"}) + "\n")
        tool = [sys.executable, os.path.join(REPO, "training", "log_phases.py"), log, "--fields", "acc_vqa"]
        r = subprocess.run(tool + ["--parts", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout.splitlines()[-1].endswith("| acc_vqa | 0.200 | 0.700 |"), r.stdout
        r = subprocess.run(tool + ["--parts", "11"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        assert r.returncode != 0 and "fewer than --parts 11" in r.stdout, r.stdout


if __name__ == "__main__":
    failed = 0
    for name, fn in list(globals().items()):
        if name.startswith("test_") and callable(fn):
            try:
                fn()
                print(f"PASS {name}", flush=True)
            except Exception as e:  # noqa: BLE001
                failed += 1
                import traceback
                traceback.print_exc()
                print(f"FAIL {name}: {e!r}", flush=True)
    sys.exit(1 if failed else 0)
