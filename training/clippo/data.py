"""Reading the generator's `VQAGEN` stream (docs/generator-format.md) into training batches.

`StreamLoader` runs N generator processes (`CMD ... --worker k --workers N`), and one thread per process reads
fixed-size records from its stdout straight into a slot of a shared (pinned, on CUDA) uint8 batch buffer: no
per-record copies in Python. Full buffers go to a ready queue; the trainer copies one to the device
(`to_device`), converts it to float [-1, 1] there, and hands the buffer back.

`ShardLoader` reads finite files written by `vqa-generate shard --out F.bin` with the same interface.
"""
from __future__ import annotations

import dataclasses
import fcntl
import os
import queue
import struct
import subprocess
import threading
import time
from typing import List, Optional, Sequence

import numpy as np
import torch

MAGIC = b"VQAGEN\x00\x01"
STREAM_HEADER = 64
KIND_CAPTION, KIND_TEXT, KIND_VQA, KIND_PAIR = 0, 1, 2, 3
KIND_NAMES = ("caption", "text", "vqa", "pair")
LANGUAGES = ("en", "de", "fr", "es", "ru", "ar", "he", "hi", "th", "zh", "ja", "ko")
_F_SETPIPE_SZ = 1031


@dataclasses.dataclass(frozen=True)
class StreamHeader:
    version: int
    size: int
    channels: int
    record_header: int
    seed: int
    vqa_classes: int
    pair_classes: int
    split: int

    @property
    def canvas_bytes(self) -> int:
        return self.size * self.size * self.channels

    @property
    def record_size(self) -> int:
        return self.record_header + 2 * self.canvas_bytes

    def compatible(self, other: "StreamHeader") -> bool:
        a = dataclasses.replace(self, seed=0)
        b = dataclasses.replace(other, seed=0)
        return a == b

    def pack(self) -> bytes:
        b = MAGIC + struct.pack("<IIIIQIII", self.version, self.size, self.channels, self.record_header,
                                self.seed, self.vqa_classes, self.pair_classes, self.split)
        return b + bytes(STREAM_HEADER - len(b))


def parse_header(b: bytes, source: str = "stream") -> StreamHeader:
    if len(b) != STREAM_HEADER:
        raise EOFError(f"{source}: ended after {len(b)} bytes, before its 64-byte stream header")
    if b[:8] != MAGIC:
        raise ValueError(f"{source}: not a VQAGEN v1 stream (magic {b[:8]!r})")
    version, size, channels, rh, seed, nv, npair, split = struct.unpack_from("<IIIIQIII", b, 8)
    if version != 1:
        raise ValueError(f"{source}: stream format version {version}, this reader knows 1")
    if channels != 3 or rh < 16 or size <= 0:
        raise ValueError(f"{source}: unexpected header (size {size}, channels {channels}, record header {rh})")
    return StreamHeader(version, size, channels, rh, seed, nv, npair, split)


def pack_record_header(kind: int, lang_a: int, lang_b: int, qtype: int, label: int, index: int, size: int = 32,
                       subject: Optional[Sequence[int]] = None, position: int = 0) -> bytes:
    """A record header with no content key or attributes; `subject` = (flags, colour + 1, shape + 1) at bytes 28..30,
    `position` = byte 31 (where one object of the scene lies)."""
    b = struct.pack("<BBBBiQ", kind, lang_a, lang_b, qtype, label, index) + bytes(12)
    b += bytes(subject or (0, 0, 0)) + bytes([position])
    return b + bytes(size - len(b))


def _readinto_exact(f, mv: memoryview) -> int:
    """Fill mv from the raw file f; returns the bytes read (< len(mv) only at end of stream)."""
    got, n = 0, len(mv)
    while got < n:
        k = f.readinto(mv[got:])
        if not k:
            break
        got += k
    return got


class _Buffer:
    def __init__(self, batch: int, record_size: int, pin: bool):
        t = torch.empty((batch, record_size), dtype=torch.uint8)
        self.tensor = t.pin_memory() if pin else t
        self.np = self.tensor.numpy()
        self.rows = batch
        self.done = 0
        self.lock = threading.Lock()
        self.event = None  # CUDA event after which the buffer may be overwritten

    def records(self) -> "RecordView":
        return RecordView(self.np[: self.rows], self.np.shape[1] - 2 * self.side * self.side * 3)


class RecordView:
    """Numpy view over raw records [n, record_size]: header fields per record."""

    def __init__(self, raw: np.ndarray, header_bytes: int = 32):
        self.raw = raw
        self.header_bytes = header_bytes

    @property
    def kind(self) -> np.ndarray:
        return self.raw[:, 0].copy()

    @property
    def lang_a(self) -> np.ndarray:
        return self.raw[:, 1].copy()

    @property
    def lang_b(self) -> np.ndarray:
        return self.raw[:, 2].copy()

    @property
    def qtype(self) -> np.ndarray:
        return self.raw[:, 3].copy()

    @property
    def label(self) -> np.ndarray:
        return np.ascontiguousarray(self.raw[:, 4:8]).view("<i4").reshape(-1).copy()

    @property
    def index(self) -> np.ndarray:
        return np.ascontiguousarray(self.raw[:, 8:16]).view("<u8").reshape(-1).copy()

    @property
    def attributes(self) -> np.ndarray:
        """uint8 [n, 4]: flags, colour mask, shape mask, object count (docs/generator-format.md, bytes 24..27)."""
        return self.raw[:, 24:28].copy()

    @property
    def pair_counts(self) -> Optional[np.ndarray]:
        """uint8 [n, 64]: objects of colour k and shape j at 8k + j (bytes 32..63, two 4-bit counts per byte, low
        first; valid where the attribute flags have 16), or None for a stream whose record header is shorter."""
        if self.header_bytes < 64:
            return None
        b = self.raw[:, 32:64]
        return np.stack([b & 0xF, b >> 4], axis=2).reshape(len(b), 64)

    @property
    def subjects(self) -> np.ndarray:
        """uint8 [n, 3]: question flags, subject colour + 1, subject shape + 1 (VQA records; bytes 28..30, 0 = not known)."""
        return self.raw[:, 28:31].copy()

    @property
    def positions(self) -> np.ndarray:
        """uint8 [n]: where one object of the scene on canvas A lies (byte 31; bit 7 known, bits 0-2 its colour, bit 3 left
        half, bit 4 upper half; 0 = not known, as in streams written before it)."""
        return self.raw[:, 31].copy()

    @property
    def key(self) -> np.ndarray:
        """The content key (a hash of what the record says; 0 = none): equal keys mean the same content."""
        return np.ascontiguousarray(self.raw[:, 16:24]).view("<u8").reshape(-1).copy()


@dataclasses.dataclass
class DeviceBatch:
    """One training batch on the device.

    images: float [2 * n_pairs + n_vqa + n_pair, S, S, 3] in [-1, 1]: canvases A of the contrastive records
    (kinds 0 and 1), their canvases B in the same order, then canvas A of the VQA records, then of the pair
    records. vqa_labels / pair_labels: int64 on the device.
    """

    images: torch.Tensor
    n_pairs: int
    n_caption: int
    n_vqa: int
    n_nli: int
    vqa_labels: torch.Tensor
    pair_labels: torch.Tensor
    records: int
    keys: Optional[torch.Tensor] = None  # int64 content keys of the contrastive records (0 = none), on the device
    vqa_types: Optional[torch.Tensor] = None  # question type of each VQA record, on the device
    attributes: Optional[torch.Tensor] = None  # uint8 [n_pairs, 4] of the contrastive records (flags, colours, shapes, objects)
    vqa_attributes: Optional[torch.Tensor] = None  # uint8 [n_vqa, 4]: the scenes inside the VQA canvases
    vqa_subjects: Optional[torch.Tensor] = None  # uint8 [n_vqa, 3]: what each question asks about (flags, colour + 1, shape + 1)
    pair_counts: Optional[torch.Tensor] = None  # uint8 [n_pairs, 64]: objects per colour and shape (flag 16), None for old streams
    vqa_pair_counts: Optional[torch.Tensor] = None  # uint8 [n_vqa, 64]: the same for the scenes inside the VQA canvases
    positions: Optional[torch.Tensor] = None  # uint8 [n_pairs]: byte 31 of the contrastive records (where one object of canvas A's scene lies)
    vqa_positions: Optional[torch.Tensor] = None  # uint8 [n_vqa]: the same for the scenes inside the VQA canvases


def to_device(buf: "_Buffer", device: torch.device, dtype=torch.float32) -> DeviceBatch:
    """Split a raw buffer by kind, move it to the device and convert the canvases to float [-1, 1].
    The caller must `release` the buffer afterwards (this records the CUDA event that guards it)."""
    view = buf.records()
    kind = view.kind
    label = view.label
    key = view.key.view(np.int64)
    qtype = view.qtype
    attrs = view.attributes
    subjects = view.subjects
    pairs = view.pair_counts
    where = view.positions
    rh = buf.np.shape[1] - 2 * _canvas_bytes(buf)
    size = _canvas_side(buf)
    # Keep captions first, text pairs after: only for the per-kind accuracy logs.
    contrast = np.concatenate([np.flatnonzero(kind == KIND_CAPTION), np.flatnonzero(kind == KIND_TEXT)])
    vqa = np.flatnonzero(kind == KIND_VQA)
    nli = np.flatnonzero(kind == KIND_PAIR)
    raw = buf.tensor[: buf.rows]
    if device.type == "cuda":
        raw = raw.to(device, non_blocking=True)
        ev = torch.cuda.Event()
        ev.record()
        buf.event = ev
    canv = raw[:, rh:].view(-1, 2, size, size, 3)

    def idx(a):
        return torch.from_numpy(a.astype(np.int64)).to(device, non_blocking=True)

    ci, vi, ni = idx(contrast), idx(vqa), idx(nli)
    parts = [canv[ci, 0], canv[ci, 1], canv[vi, 0], canv[ni, 0]]
    images = torch.cat(parts, 0).to(dtype).mul_(1.0 / 127.5).sub_(1.0)
    return DeviceBatch(
        images=images,
        n_pairs=len(contrast),
        n_caption=int((kind == KIND_CAPTION).sum()),
        n_vqa=len(vqa),
        n_nli=len(nli),
        vqa_labels=torch.from_numpy(label[vqa].astype(np.int64)).to(device, non_blocking=True),
        pair_labels=torch.from_numpy(label[nli].astype(np.int64)).to(device, non_blocking=True),
        records=buf.rows,
        keys=torch.from_numpy(key[contrast].copy()).to(device, non_blocking=True),
        vqa_types=torch.from_numpy(qtype[vqa].astype(np.int64)).to(device, non_blocking=True),
        attributes=torch.from_numpy(attrs[contrast].copy()).to(device, non_blocking=True),
        vqa_attributes=torch.from_numpy(attrs[vqa].copy()).to(device, non_blocking=True),
        vqa_subjects=torch.from_numpy(subjects[vqa].copy()).to(device, non_blocking=True),
        pair_counts=None if pairs is None else torch.from_numpy(pairs[contrast].copy()).to(device, non_blocking=True),
        vqa_pair_counts=None if pairs is None else torch.from_numpy(pairs[vqa].copy()).to(device, non_blocking=True),
        positions=torch.from_numpy(where[contrast].copy()).to(device, non_blocking=True),
        vqa_positions=torch.from_numpy(where[vqa].copy()).to(device, non_blocking=True),
    )


def _canvas_side(buf) -> int:
    return buf.side


def _canvas_bytes(buf) -> int:
    return buf.side * buf.side * 3


class LoaderError(RuntimeError):
    pass


class StreamLoader:
    """N generator processes -> reader threads -> batch buffers.

    command: the generator command as a list (everything but `--worker k --workers N`, which are appended, and
    `--start S` when start > 0: worker k then writes examples S + k, S + k + N, ...). `next_start()` is the first
    index no worker has written yet, where a resumed training starts its stream.
    """

    def __init__(self, command: Sequence[str], workers: int, batch_size: int, pin_memory: bool = False,
                 buffers: int = 4, log_dir: Optional[str] = None, env: Optional[dict] = None,
                 start_timeout: float = 120.0, start: int = 0):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.command = list(command)
        self.workers = workers
        self.start = int(start)
        self.per_worker = [0] * workers
        self.batch_size = batch_size
        self.procs: List[subprocess.Popen] = []
        self.threads: List[threading.Thread] = []
        self.ready: "queue.Queue[_Buffer]" = queue.Queue()
        self.free: "queue.Queue[_Buffer]" = queue.Queue()
        self.stop = threading.Event()
        self.error: Optional[str] = None
        self.claim_lock = threading.Lock()
        self.current: Optional[_Buffer] = None
        self.next_slot = 0
        self.records_read = 0
        self.logs = []
        try:
            for k in range(workers):
                cmd = self.command + ["--worker", str(k), "--workers", str(workers)]
                if self.start:
                    cmd += ["--start", str(self.start)]
                if log_dir:
                    os.makedirs(log_dir, exist_ok=True)
                    err = open(os.path.join(log_dir, f"generator_{k}.log"), "wb")
                else:
                    err = subprocess.DEVNULL
                self.logs.append(err)
                p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                                     bufsize=0, env=env, start_new_session=True)
                try:
                    fcntl.fcntl(p.stdout.fileno(), _F_SETPIPE_SZ, 1 << 20)
                except OSError:
                    pass
                self.procs.append(p)
            headers = []
            for k, p in enumerate(self.procs):
                b = bytearray(STREAM_HEADER)
                n = _readinto_exact(p.stdout, memoryview(b))
                if n < STREAM_HEADER:
                    raise LoaderError(f"generator worker {k} ended before its stream header "
                                      f"(exit code {p.poll()}){self._stderr_tail(k)}")
                headers.append(parse_header(bytes(b), f"generator worker {k}"))
            for k, h in enumerate(headers[1:], 1):
                if not h.compatible(headers[0]):
                    raise LoaderError(f"generator worker {k} header {h} differs from worker 0's {headers[0]}")
            self.header = headers[0]
            for _ in range(buffers):
                b = _Buffer(batch_size, self.header.record_size, pin_memory)
                b.side = self.header.size
                self.free.put(b)
            for k, p in enumerate(self.procs):
                t = threading.Thread(target=self._reader, args=(k, p), name=f"gen-reader-{k}", daemon=True)
                t.start()
                self.threads.append(t)
        except BaseException:
            self.close()
            raise

    def _stderr_tail(self, k: int) -> str:
        f = self.logs[k] if k < len(self.logs) else None
        if not f or f is subprocess.DEVNULL:
            return ""
        try:
            f.flush()
            with open(f.name, "rb") as r:
                r.seek(max(0, os.path.getsize(f.name) - 2000))
                tail = r.read().decode("utf-8", "replace").strip()
            return f"; its stderr ends: {tail}" if tail else ""
        except OSError:
            return ""

    def _claim(self):
        with self.claim_lock:
            while self.current is None or self.next_slot >= self.current.rows:
                if self.stop.is_set():
                    return None, 0
                try:
                    b = self.free.get(timeout=0.2)
                except queue.Empty:
                    continue
                if b.event is not None:
                    b.event.synchronize()
                    b.event = None
                b.done = 0
                self.current, self.next_slot = b, 0
            slot = self.next_slot
            self.next_slot += 1
            return self.current, slot

    def _reader(self, k: int, p: subprocess.Popen):
        size = self.header.record_size
        try:
            while not self.stop.is_set():
                buf, slot = self._claim()
                if buf is None:
                    return
                n = _readinto_exact(p.stdout, memoryview(buf.np[slot]))
                if n < size:
                    if not self.stop.is_set():
                        self.error = (f"generator worker {k} stream ended ({n} of {size} bytes of a record; "
                                      f"exit code {p.poll()}){self._stderr_tail(k)}")
                        self.stop.set()
                    return
                self.per_worker[k] += 1
                with buf.lock:
                    buf.done += 1
                    full = buf.done == buf.rows
                if full:
                    self.ready.put(buf)
        except Exception as e:  # noqa: BLE001
            if not self.stop.is_set():
                self.error = f"generator reader {k}: {e!r}"
                self.stop.set()

    def next(self, timeout: float = 300.0) -> _Buffer:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.ready.get(timeout=0.1)
            except queue.Empty:
                pass
            if self.error:
                raise LoaderError(self.error)
            if self.stop.is_set():
                raise LoaderError("loader closed")
            if time.monotonic() > deadline:
                raise LoaderError(f"no batch from the generator in {timeout:.0f} s")

    def release(self, buf: _Buffer):
        self.free.put(buf)

    def next_start(self) -> int:
        """The first example index none of the workers has written: start + workers * (most records one worker wrote)."""
        return self.start + self.workers * max(self.per_worker)

    def close(self):
        self.stop.set()
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.kill()
                except OSError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            if p.stdout:
                p.stdout.close()
        for t in self.threads:
            t.join(timeout=5)
        for f in self.logs:
            if f is not subprocess.DEVNULL:
                f.close()
        self.logs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ShardFile:
    """A finite file: 64-byte stream header then records (memory-mapped)."""

    def __init__(self, path: str):
        self.path = path
        with open(path, "rb") as f:
            self.header = parse_header(f.read(STREAM_HEADER), path)
        rs = self.header.record_size
        body = os.path.getsize(path) - STREAM_HEADER
        if body % rs:
            raise ValueError(f"{path}: {body} bytes of records is not a multiple of the record size {rs} (truncated?)")
        self.count = body // rs
        self.records = np.memmap(path, dtype=np.uint8, mode="r", offset=STREAM_HEADER, shape=(self.count, rs))

    def __len__(self):
        return self.count


class ShardLoader:
    """Batches from shard files with the StreamLoader interface. shuffle=True cycles forever in a random
    order (training from pre-generated data; a background thread fills the next buffers); shuffle=False
    reads each record once, in order, and the last batch may be short (evaluation)."""

    def __init__(self, paths: Sequence[str], batch_size: int, pin_memory: bool = False, shuffle: bool = False,
                 seed: int = 0, buffers: int = 3):
        self.files = [ShardFile(p) for p in paths]
        if not self.files:
            raise ValueError("no shard files")
        self.header = self.files[0].header
        for f in self.files[1:]:
            if not f.header.compatible(self.header):
                raise ValueError(f"{f.path}: header differs from {self.files[0].path}")
        self.index = [(i, j) for i, f in enumerate(self.files) for j in range(len(f))]
        if not self.index:
            raise ValueError("the shard files hold no records")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        self.pos = 0
        self.order = self._order()
        self.pool: "queue.Queue[_Buffer]" = queue.Queue()
        for _ in range(buffers):
            b = _Buffer(batch_size, self.header.record_size, pin_memory)
            b.side = self.header.size
            self.pool.put(b)
        self.stop = threading.Event()
        self.ready: "queue.Queue" = queue.Queue()
        self.thread = None
        if shuffle:
            self.thread = threading.Thread(target=self._prefetch, name="shard-prefetch", daemon=True)
            self.thread.start()

    def __len__(self):
        return len(self.index)

    def _order(self):
        o = np.arange(len(self.index))
        if self.shuffle:
            self.rng.shuffle(o)
        return o

    def _fill(self) -> _Buffer:
        if self.pos >= len(self.order):
            if not self.shuffle:
                raise StopIteration
            self.order, self.pos = self._order(), 0
        take = self.order[self.pos: self.pos + self.batch_size]
        self.pos += len(take)
        buf = None
        while buf is None:
            if self.stop.is_set():
                return None
            try:
                buf = self.pool.get(timeout=0.2)
            except queue.Empty:
                pass
        if buf.event is not None:
            buf.event.synchronize()
            buf.event = None
        for r, i in enumerate(take):
            fi, j = self.index[i]
            buf.np[r] = self.files[fi].records[j]
        buf.rows = len(take)
        return buf

    def _prefetch(self):
        try:
            while not self.stop.is_set():
                buf = self._fill()
                if buf is None:
                    return
                self.ready.put(buf)
        except Exception as e:  # noqa: BLE001
            self.ready.put(e)

    def next(self, timeout: float = 300.0) -> _Buffer:
        if self.thread is None:
            return self._fill()
        item = self.ready.get(timeout=timeout)
        if isinstance(item, Exception):
            raise LoaderError(f"shard reader: {item!r}")
        return item

    def __iter__(self):
        while True:
            try:
                yield self.next()
            except StopIteration:
                return

    def release(self, buf: _Buffer):
        buf.rows = self.batch_size
        self.pool.put(buf)

    def close(self):
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
