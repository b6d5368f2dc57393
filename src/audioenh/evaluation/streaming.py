"""Streaming enhancement of audio files: hours-long inputs in constant memory, no seams, no lost samples.

The pipeline reads the input in blocks, resamples it to the checkpoint's rate when needed
(``soxr`` streaming resampler), runs the model block by block with context on each side
(:func:`~audioenh.evaluation.inference.overlap_save`, the very code behind
:func:`~audioenh.evaluation.inference.enhance_array`, so the result equals enhancing the whole
signal at once), resamples to the output's rate when needed, and writes through
:func:`~audioenh.fileio.atomic_path` (a temporary file beside the output, renamed into place when
complete). The output's sample format follows :func:`~audioenh.audio_io.output_format`.
Memory depends on the block sizes only, never on the file's length.

The output's rate (:func:`output_rate`) is by default the higher of the input's and the model's:
a 48 or 96 kHz input stays at its rate, a 22.05 kHz input is written at 44.1 kHz (where the restored
band fits). When the output is at the input's own rate but the model runs at another, safe mode
adds only the network's contribution to the input: the output is the input's own samples plus
the correction (safe output minus input, at the model's rate) resampled to the input's rate, so
nothing the model does not restore goes through a resampler; an input safe mode keeps is copied
as it is. Output lengths are exact: ``round(frames * output_rate / input_rate)`` samples, exactly
the input's ``frames`` when the rate is kept.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from ..audio_io import FLOAT_SUBTYPES, AudioInfo, copy_tags, output_format, probe_audio, same_file, sndfile_reason
from ..checkpoint import training_degradations, validated_gain_db, validated_ranges
from ..errors import AudioenhError, AudioFileError, CheckpointError
from ..fileio import atomic_path
from . import transients
from .blocks import default_enhance_batch
from .crossover import Restoration, at_model_rate, keep_below_edge, limit_excerpt, plan_restoration
from .inference import DEFAULT_CHUNK, DEFAULT_CONTEXT, block_geometry, enhance_blocks, overlap_save
from .level import LEVEL_KEY, model_gain

READ_FRAMES = 65536  # input frames read per step
PROGRESS_MIN_SECONDS = 5.0  # no progress bar for shorter files
RATES = ("auto", "input", "model")  # the output's sample rate: see output_rate()


def output_rate(input_rate: int, model_rate: int, rate: str = "auto") -> int:
    """The output's sample rate: ``"auto"`` the higher of the input's and the model's (a 48 or 96 kHz
    input is not downsampled; a lower rate is raised to the model's, where the restored band fits),
    ``"input"`` exactly the input's, ``"model"`` the model's."""
    if rate == "auto":
        return max(input_rate, model_rate)
    if rate == "input":
        return input_rate
    if rate == "model":
        return model_rate
    raise AudioenhError(f"unknown output rate {rate!r}; use one of {', '.join(RATES)}")


def check_input(path: str | os.PathLike) -> AudioInfo:
    """Open ``path`` without reading its samples and check that ``enhance`` can take it (mono or stereo)."""
    info = probe_audio(path)
    if info.channels > 2:
        raise AudioFileError(f"{str(path)!r} has {info.channels} channels; enhance takes mono or stereo")
    return info


class _Counter:
    """Input frames read so far (shared by the pipeline's stages)."""

    def __init__(self) -> None:
        self.frames = 0


def _read(f: sf.SoundFile, path: Path, counter: _Counter, bar, read_frames: int) -> Iterator[np.ndarray]:
    """(frames, channels) float32 blocks of the input; NaN/inf samples abort the run."""
    while True:
        try:
            block = f.read(read_frames, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioFileError(f"cannot read {str(path)!r}: {sndfile_reason(exc)}") from None
        if block.shape[0] == 0:
            return
        if not np.isfinite(block).all():
            bad = counter.frames + int(np.argmin(np.isfinite(block).all(axis=1)))
            raise AudioFileError(
                f"{str(path)!r} contains NaN or infinite samples (first at {bad / f.samplerate:.3f} s); "
                "nothing was written"
            )
        counter.frames += block.shape[0]
        if bar is not None:
            bar.update(block.shape[0] / f.samplerate)
        yield block


def _exact_resample(
    blocks: Iterator[np.ndarray],
    in_rate: int,
    out_rate: int,
    channels: int,
    bound: Callable[[], int],
    total: Callable[[], int],
) -> Iterator[np.ndarray]:
    """Resample a stream of (frames, channels) blocks and make its total length exactly ``total()``.

    ``bound()`` is a number of output samples known to lie within the final length; samples past
    it are held back until the end, so that the resampler's tail never leaks past the signal's end
    (the next stage treats everything after the end as zeros). ``total()`` is asked at the end.
    """
    import soxr

    stream = soxr.ResampleStream(in_rate, out_rate, channels, dtype="float32")
    held = np.zeros((0, channels), dtype=np.float32)
    emitted = 0
    for x in blocks:
        y = stream.resample_chunk(np.ascontiguousarray(x, dtype=np.float32))
        held = np.concatenate([held, y]) if held.shape[0] else y
        take = max(0, min(held.shape[0], bound() - emitted))
        if take:
            yield held[:take]
            held = held[take:]
            emitted += take
    tail = stream.resample_chunk(np.zeros((0, channels), dtype=np.float32), last=True)
    held = np.concatenate([held, tail])
    want = total() - emitted
    if held.shape[0] < want:
        held = np.concatenate([held, np.zeros((want - held.shape[0], channels), dtype=np.float32)])
    if want > 0:
        yield held[:want]


class _Pending:
    """Input blocks read but not yet joined with the correction computed from them (safe mode at
    the input's own rate): holds the pipeline's delay only, never the file."""

    def __init__(self) -> None:
        self.blocks: deque[np.ndarray] = deque()
        self.frames = 0

    def tee(self, blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """``blocks`` unchanged, each one kept until :meth:`add_to` has used it."""
        for x in blocks:
            self.blocks.append(x)
            self.frames += x.shape[0]
            yield x

    def _take(self, n: int) -> np.ndarray:
        if n > self.frames:
            raise RuntimeError(f"internal error: {n} correction frames for {self.frames} input frames")
        pieces = []
        while n:
            head = self.blocks[0]
            if head.shape[0] <= n:
                pieces.append(self.blocks.popleft())
            else:
                pieces.append(head[:n])
                self.blocks[0] = head[n:]
            n -= pieces[-1].shape[0]
            self.frames -= pieces[-1].shape[0]
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

    def add_to(self, corrections: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """The input's own samples plus ``corrections`` (same rate, same frames, in order)."""
        for c in corrections:
            yield self._take(c.shape[0]) + c


def audio_channels(model: torch.nn.Module, checkpoint: dict) -> int:
    """Channels the model takes (the checkpoint's record, else the model's attribute, else stereo)."""
    return int(checkpoint.get("audio_channels", getattr(model, "audio_channels", 2)) or 2)


def finish_plan(
    plan: Restoration,
    model: torch.nn.Module,
    checkpoint: dict,
    excerpt: np.ndarray,
    excerpt_rate: int,
    device: torch.device | str | None = None,
    precision: str = "fp32",
) -> Restoration:
    """``plan`` with the steps of safe mode that need the network, both on :func:`limit_excerpt` of the
    analysis ``excerpt`` (channels, samples at ``excerpt_rate`` Hz), run at the file's gain
    (:func:`~audioenh.evaluation.level.model_gain` of those excerpts): the self-test
    (:mod:`audioenh.evaluation.self_test`; a failed one keeps the input), then the level limit
    (:meth:`Restoration.limited`). A plan that keeps the input, or is finished already, comes back
    as it is."""
    from .self_test import self_tested

    if plan.skip or plan.limit_db is not None:
        return plan
    model_rate = int(checkpoint["sample_rate"])
    model_channels = audio_channels(model, checkpoint)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    analysed = at_model_rate(limit_excerpt(excerpt, excerpt_rate), excerpt_rate, model_rate).astype(np.float32)
    gain = model_gain(model, excerpt)  # the file's gain, from its analysis excerpts, as enhance_file's
    mapped = _ModelRunner(model, model_channels, analysed.shape[0], device, precision, input_gain=gain)
    plan = self_tested(plan, analysed, model_rate, mapped.whole)
    if plan.skip:
        return plan
    return plan.limited(analysed, mapped.whole(analysed), model_rate)


class _ModelRunner:
    """The block function given to :func:`overlap_save`: maps the file's channels onto the model's
    (same count, mono duplicated with the outputs averaged, or a mono model applied to each channel)."""

    def __init__(
        self,
        model: torch.nn.Module,
        model_channels: int,
        channels: int,
        device: torch.device,
        precision: str = "fp32",
        plan: Restoration | None = None,
        sample_rate: int = 44100,
        correction: bool = False,
        input_gain: float = 1.0,
        bursts: transients.BurstTally | None = None,
    ):
        self.model, self.model_channels, self.channels, self.device = model, model_channels, channels, device
        self.precision = precision
        # safe mode's (finished) plan: its crossover taps and trust, its burst limit at the blocks' rate
        # ``sample_rate`` (the model's); a plan that skips the network returns the input itself
        self.plan, self.sample_rate = plan, sample_rate
        self.correction = correction  # safe mode: return what is added to the input, not the output
        self.input_gain = input_gain  # the file's samples times this go into the network (model_gain)
        self.bursts = bursts  # where the burst limit cut, when given (the blocks must come in order)

    def _run(self, blocks: np.ndarray) -> np.ndarray:
        return enhance_blocks(self.model, blocks, self.device, self.precision, self.input_gain)

    def whole(self, audio: np.ndarray) -> np.ndarray:
        """The network's output for a whole (channels, samples) array (an analysis excerpt), its
        channels mapped like the blocks'."""
        from ..architectures.receptive import receptive_field
        from .inference import enhance_array

        context = receptive_field(self.model)

        def one(x: np.ndarray) -> np.ndarray:
            return enhance_array(
                self.model, x, context=context, device=self.device, precision=self.precision, input_gain=self.input_gain
            )

        def run(items: np.ndarray) -> np.ndarray:  # (items, channels, samples), each enhanced whole
            return np.stack([one(x) for x in items])

        return self._network(audio[None], run)[0]

    def __call__(self, blocks: np.ndarray) -> np.ndarray:  # (batch, channels, samples)
        plan = self.plan
        if plan is not None and plan.skip:
            return np.asarray(blocks, dtype=np.float32)
        out = self._network(blocks)
        if plan is None:
            return out
        if plan.burst_reference_db is not None:  # the crossover, then the burst limit, each block on its own
            record = None if self.bursts is None else self.bursts.recorder(len(blocks))
            added = plan.contribution(blocks, out, self.sample_rate, on_cut=record)
            return added if self.correction else (blocks + added).astype(np.float32)
        if self.correction:  # the same crossover and trust, applied to the difference alone
            return keep_below_edge(np.zeros_like(blocks), out - blocks, plan.taps, plan.gain)
        return keep_below_edge(blocks, out, plan.taps, plan.gain)

    def _network(self, blocks: np.ndarray, run: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
        """``run`` (default: the blocks' batched forward) on ``blocks`` with the file's channels mapped
        onto the model's."""
        run = run or self._run
        if self.channels == self.model_channels:
            return run(blocks)
        if self.channels == 1:
            return run(np.repeat(blocks, self.model_channels, axis=1)).mean(axis=1, keepdims=True)
        b, c, n = blocks.shape  # mono model, stereo file: one channel per batch item
        return run(blocks.reshape(b * c, 1, n)).reshape(b, c, n)


def _rate_note(in_rate: int, model_rate: int, out_rate: int, skip: bool, additive: bool) -> str | None:
    """What happens to the sample rate, in one line (``None``: nothing is resampled)."""
    if skip:
        return None if out_rate == in_rate else f"resampling {in_rate} Hz -> {out_rate} Hz (soxr)"
    if in_rate == model_rate:
        return None
    if additive:
        return (
            f"resampling {in_rate} Hz -> {model_rate} Hz (soxr) for the model; what it adds is resampled "
            f"back to {in_rate} Hz and added to the input"
        )
    if out_rate == in_rate:
        return f"resampling {in_rate} Hz -> {model_rate} Hz -> {in_rate} Hz (soxr)"
    return f"resampling {in_rate} Hz -> {model_rate} Hz (soxr); the output is at {out_rate} Hz"


def enhance_file(
    model: torch.nn.Module,
    checkpoint: dict[str, Any],
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    *,
    rate: str = "auto",
    keep_rate: bool = False,
    subtype: str | None = None,
    chunk: int = DEFAULT_CHUNK,
    context: int | None = DEFAULT_CONTEXT,
    batch_size: int | None = None,
    device: torch.device | str | None = None,
    precision: str = "fp32",
    mode: str = "safe",
    edge_hz: float | None = None,
    plan: Restoration | None = None,
    excerpt: tuple[np.ndarray, int] | None = None,
    progress: bool = True,
    verbose: bool = True,
    read_frames: int = READ_FRAMES,
) -> dict[str, Any]:
    """Enhance ``input_path`` with ``model`` into ``output_path``, streaming (constant memory).

    The model runs at ``checkpoint["sample_rate"]``; an input at another rate is resampled to it.
    ``rate`` picks the output's rate (:func:`output_rate`): ``"auto"`` (the default) the higher of
    the input's and the model's, ``"input"`` the input's own (``keep_rate=True`` says the same),
    ``"model"`` the model's. The output has exactly ``round(frames * output_rate / input_rate)``
    frames (the input's own count when its rate is kept). At the input's own rate and another
    model rate, safe mode writes the input's own samples plus the network's correction resampled
    to that rate (the module docstring); raw mode the network's output resampled. Mono inputs are
    duplicated for a stereo model and the two outputs averaged; more than two channels are refused.
    ``subtype``: ``"PCM_16"``, ``"PCM_24"`` or ``"FLOAT"`` (refused when the output format cannot
    hold it); ``None`` is 24-bit PCM where the output format has it, else the format's own encoding
    (:func:`~audioenh.audio_io.output_format`). PCM outputs are clipped to [-1, 1].

    ``mode="safe"`` (the default) does no harm: the network only adds to the band above the
    input's band edge (``edge_hz``, else detected with
    :func:`~audioenh.analysis.bandwidth.file_excerpts`); below it the output is the input
    (:mod:`~audioenh.evaluation.crossover`), and a full-band input comes back unchanged.
    ``mode="raw"`` is the network's output as it is (what the paper measures). ``plan``: safe mode's
    decision when already made for this input and model (a bank's choice,
    :mod:`~audioenh.evaluation.selection`); else it is made here. ``excerpt``: the file's analysis
    excerpts and their rate when already read (:func:`~audioenh.analysis.bandwidth.file_excerpts`),
    which safe mode plans and measures its level limit on; else they are read here.

    ``progress`` shows a tqdm bar on stderr for files longer than a few seconds; ``verbose`` notes
    resampling (and the output's rate when it is not the input's) on stderr. ``read_frames`` is the
    number of input frames read per step.

    Nothing is left at ``output_path`` (nor a temporary file) when anything fails or is
    interrupted; an existing output is replaced only when the new one is complete.
    Returns a summary: paths, rates (``input_rate``, ``output_rate``, ``model_rate``), channels,
    frames in and out, audio seconds and elapsed seconds, and safe mode's decision.
    """
    started = time.perf_counter()
    in_p, out_p = Path(input_path), Path(output_path)
    if same_file(in_p, out_p):
        raise AudioenhError(f"refusing to overwrite the input {str(in_p)!r}; choose another output")
    info = check_input(in_p)
    fmt, sub = output_format(out_p, subtype)
    if not out_p.parent.exists():
        raise AudioFileError(f"cannot write {str(out_p)!r}: directory {str(out_p.parent)!r} does not exist")
    if out_p.is_dir():
        raise AudioFileError(f"cannot write {str(out_p)!r}: it is a directory")

    model_rate = int(checkpoint["sample_rate"])
    model_channels = audio_channels(model, checkpoint)
    if model_rate <= 0:
        raise CheckpointError(f"checkpoint sample_rate {model_rate} is not a valid rate")
    channels = info.channels
    if not (channels == model_channels or channels == 1 or model_channels == 1):
        raise AudioenhError(
            f"{str(in_p)!r} has {channels} channels but the model takes {model_channels}; "
            "enhance maps mono to any model and any file to a mono model"
        )
    if device is None:
        device = next(model.parameters()).device
    device = torch.device(device)
    batch_size = batch_size or default_enhance_batch(device)
    model.eval()
    if mode not in ("safe", "raw"):
        raise AudioenhError(f"unknown enhance mode {mode!r}; use safe or raw")
    if keep_rate:
        if rate not in ("auto", "input"):
            raise AudioenhError(f"keep_rate and rate={rate!r} exclude each other")
        rate = "input"
    in_rate = info.sample_rate
    out_rate = output_rate(in_rate, model_rate, rate)
    from ..analysis.bandwidth import file_excerpts

    if mode != "safe":
        plan = None
    elif plan is None or (not plan.skip and plan.limit_db is None):
        excerpt = excerpt if excerpt is not None else file_excerpts(in_p)
        if plan is None:
            plan = plan_restoration(
                *excerpt,
                model_rate,
                training_degradations(checkpoint),
                edge_hz,
                validated_gain_db(checkpoint),
                validated_ranges(checkpoint),
            )
        plan = finish_plan(plan, model, checkpoint, *excerpt, device, precision)
    taps = plan.taps if plan is not None else None
    if context is None and taps is not None:
        from ..architectures.receptive import receptive_field

        context = receptive_field(model)
    if taps is not None:
        context += len(taps) // 2  # the crossover's own reach, so blocks still join without seams
        if plan is not None and plan.burst_reference_db is not None:
            context += transients.reach(model_rate)  # and the burst limit's
    chunk, context = block_geometry(model, chunk, context)
    skip = plan is not None and plan.skip  # safe mode keeps the input: the network is not run
    input_gain = 1.0
    if getattr(model, LEVEL_KEY, None) is not None and not skip:  # one gain per file, from its excerpts
        excerpt = excerpt if excerpt is not None else file_excerpts(in_p)
        input_gain = model_gain(model, excerpt[0])
    # at the input's own rate, safe mode adds the network's correction to the input's own samples
    additive = mode == "safe" and not skip and out_rate == in_rate != model_rate
    run = _ModelRunner(
        model,
        model_channels,
        channels,
        device,
        precision,
        plan=plan,
        sample_rate=model_rate,
        correction=additive,
        input_gain=input_gain,
        bursts=transients.BurstTally(chunk, context) if plan is not None and not skip else None,
    )
    if verbose:
        note = _rate_note(in_rate, model_rate, out_rate, skip, additive)
        if note:
            print(note, file=sys.stderr)

    bar = None
    frames_out = 0
    clipped = 0  # output samples beyond [-1, 1] that a PCM format had to clip
    counter = _Counter()

    def bound(r: int) -> Callable[[], int]:  # samples at rate ``r`` known to lie within the final length
        return lambda: counter.frames * r // in_rate

    def total(r: int) -> Callable[[], int]:  # the exact length at rate ``r`` of the input read so far
        return lambda: round(Fraction(counter.frames * r, in_rate))

    try:
        with atomic_path(out_p) as tmp:  # fsync, umask mode, rename when complete; removed on any error
            try:
                writer = sf.SoundFile(tmp, "w", samplerate=out_rate, channels=channels, subtype=sub, format=fmt)
            except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
                raise AudioFileError(
                    f"cannot write {str(out_p)!r} ({fmt} {sub}, {out_rate} Hz, {channels} ch): {sndfile_reason(exc)}"
                ) from None
            with writer, sf.SoundFile(str(in_p)) as reader:  # both closed before the rename (or removal)
                tags = copy_tags(reader, writer)
                if progress and info.frames > PROGRESS_MIN_SECONDS * in_rate:
                    from tqdm import tqdm

                    bar = tqdm(  # counted in seconds of audio, as a person thinks of a file's length
                        total=info.frames / in_rate,
                        desc=in_p.name,
                        file=sys.stderr,
                        leave=False,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s of audio "
                        "[{elapsed}<{remaining}]",
                    )
                stream: Iterator[np.ndarray] = _read(reader, in_p, counter, bar, read_frames)
                if skip:  # the input itself, resampled only when the output's rate is not its own
                    if out_rate != in_rate:
                        stream = _exact_resample(stream, in_rate, out_rate, channels, bound(out_rate), total(out_rate))
                else:
                    pending = _Pending()
                    if additive:
                        stream = pending.tee(stream)
                    if in_rate != model_rate:
                        stream = _exact_resample(
                            stream, in_rate, model_rate, channels, bound(model_rate), total(model_rate)
                        )
                    enhanced = overlap_save((x.T for x in stream), run, channels, chunk, context, batch_size)
                    stream = (y.T for y in enhanced)  # back to (frames, channels)
                    if out_rate != model_rate:
                        stream = _exact_resample(
                            stream, model_rate, out_rate, channels, bound(out_rate), total(out_rate)
                        )
                    if additive:  # the input's own samples plus the resampled correction
                        stream = pending.add_to(stream)
                clip = sub not in FLOAT_SUBTYPES
                for block in stream:
                    if clip:
                        clipped += int(np.count_nonzero(np.abs(block) > 1.0))
                        block = np.clip(block, -1.0, 1.0)
                    try:
                        writer.write(block)
                    except (sf.LibsndfileError, RuntimeError) as exc:
                        raise AudioFileError(f"cannot write {str(out_p)!r}: {sndfile_reason(exc)}") from None
                    frames_out += block.shape[0]
            if counter.frames == 0:
                raise AudioFileError(f"cannot read {str(in_p)!r}: it contains no samples")
    finally:
        if bar is not None:
            bar.close()
    return {
        "input": str(in_p),
        "output": str(out_p),
        "input_rate": in_rate,
        "output_rate": out_rate,
        "model_rate": model_rate,
        "channels": channels,
        "frames_in": counter.frames,
        "frames_out": frames_out,
        "seconds": counter.frames / in_rate,
        "elapsed": time.perf_counter() - started,
        "subtype": sub,
        "clipped_samples": clipped,
        "mode": mode,
        "tags": tags,
        **(plan.info() if plan is not None else Restoration.unplanned_info(edge_hz)),
        "restored_hz": None if plan is None or plan.skip else [plan.edge_hz, model_rate / 2],
        **(
            run.bursts.summary(round(Fraction(counter.frames * model_rate, in_rate)), model_rate)
            if run.bursts is not None
            else transients.BurstTally.unmeasured()
        ),
    }


__all__ = ["RATES", "check_input", "enhance_file", "output_rate"]
