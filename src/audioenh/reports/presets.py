"""Sizes of the generalization report: ``smoke`` (tests), ``quick`` (CPU), ``paper`` (GPU, full protocol)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

SEEN = "cheby1:6"
UNSEEN = "butter:6"
MULTI = "paper-multi"
#: audioenh's best training recipe (docs/recipes.md: chosen on the validation split), the grid's fifth variant
RECIPE = "recipe-steep-11k"

#: Metrics of the report unless ``--metric`` says otherwise (SNR is always computed: the finding uses it).
DEFAULT_METRICS = ("snr", "lsd", "lsd-hf")

#: The grid's variants: name -> (architecture options appended to the spec, training degradation)
VARIANTS: dict[str, tuple[str, str]] = {
    "baseline": ("", SEEN),
    "DA": ("", MULTI),
    "BN": ("batchnorm=true", SEEN),
    "DO": ("dropout=0.5", SEEN),
    "recipe": ("", RECIPE),
}


@dataclass(frozen=True)
class Preset:
    """How big every run of the grid is. Architecture specs are completed with each variant's options."""

    name: str
    description: str
    archs: dict[str, str]  # display name -> architecture spec
    data: str  # default corpus spec
    iterations: int
    batch_size: int
    chunk: int
    lr: float
    record_every: int
    val_offset: float  # seconds
    val_seconds: float  # seconds
    min_lr: float | None = None
    patience: int = 5
    infer_chunk: int = 32768
    #: iterations where they differ from ``iterations``, keyed by "ARCH VARIANT" (e.g. "ResNet DA"), by
    #: variant alone ("BN") or by architecture alone ("ResNet"); the more specific key wins
    run_iterations: dict[str, int] = field(default_factory=dict)
    #: training songs scored for Table III (sample overfitting); None: the whole train split
    overfit_train_songs: int | None = None
    #: seconds of audio timed for the runtime rate (Table IV)
    runtime_seconds: float = 10.0
    #: seconds of the Fig. 4 excerpt
    excerpt_seconds: float = 2.0
    #: the generalization matrix's columns (degradation sets or specs) and how much of each test song
    #: it scores (seconds of a centred excerpt; None: whole songs)
    matrix_cells: tuple[str, ...] = ("matrix-quick",)
    matrix_seconds: float | None = None
    #: iterations of every run when the networks train on a CPU without bf16 hardware (neither AMX nor
    #: AVX-512 BF16), where the preset's own budget does not fit its time; None: the same budget
    #: everywhere. Runs of ``run_iterations`` are scaled by the same ratio.
    iterations_without_bf16: int | None = None

    def iterations_for(self, arch: str, variant: str) -> int:
        """Training iterations of one run of the grid."""
        for key in (f"{arch} {variant}", variant, arch):
            if key in self.run_iterations:
                return self.run_iterations[key]
        return self.iterations

    def without_bf16(self) -> Preset:
        """This preset with the budget of a CPU without bf16 hardware (itself where it has none)."""
        reduced = self.iterations_without_bf16
        if reduced is None or reduced == self.iterations:
            return self
        scaled = {k: max(1, round(v * reduced / self.iterations)) for k, v in self.run_iterations.items()}
        return replace(self, iterations=reduced, run_iterations=scaled, iterations_without_bf16=None)

    def arch_spec(self, arch: str, variant: str) -> str:
        base = self.archs[arch]
        extra = VARIANTS[variant][0]
        if not extra:
            return base
        return base + ("," if ":" in base else ":") + extra

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PRESETS: dict[str, Preset] = {
    "smoke": Preset(
        name="smoke",
        description="pipeline check in under a minute on a CPU; numbers mean nothing",
        archs={"U-Net": "unet:preset=tiny", "ResNet": "resnet:preset=tiny"},
        data="builtin:songs=3,seconds=3",
        iterations=4,
        batch_size=2,
        chunk=512,
        lr=1e-3,
        record_every=2,
        val_offset=0.5,
        val_seconds=1.0,
        infer_chunk=16384,
        runtime_seconds=1.0,
        excerpt_seconds=1.0,
        matrix_cells=("cheby1:6", "ellip:order=8,cutoff=16000", "resample:16000"),
        matrix_seconds=1.0,
    ),
    # Sized by tools/quick_search.sh (docs/results.md): on the H100 the ResNet of width 16 x 6
    # blocks at lr 3e-3 shows the finding on validation from ~750 iterations on (seen +2.8 dB,
    # unseen +0.2 dB, DA unseen +2.1 dB), clearly by 1250; wider models and shorter chunks
    # showed it later or less clearly, and width 24 / kernel 9 at lr 3e-3 diverged.
    "quick": Preset(
        name="quick",
        description="small models on the built-in corpus, sized for 2 CPU cores",
        archs={
            "U-Net": "unet:width=8,depth=4,kernel=33,max_channels=32",
            "ResNet": "resnet:width=16,blocks=6,kernel=7",
        },
        data="builtin",
        # The same budget for every run (no variant tuned), sized so that the grid, tests, matrix and
        # figures fit in 10 minutes on 2 CPU cores with bf16 hardware (AMX or AVX-512 BF16); on one
        # without, fewer iterations, the same for every run (docs/results.md).
        iterations=1000,
        iterations_without_bf16=750,
        overfit_train_songs=4,
        batch_size=16,
        chunk=2048,
        lr=3e-3,
        record_every=250,
        val_offset=1.0,
        val_seconds=4.0,
        matrix_seconds=4.0,
    ),
    "paper": Preset(
        name="paper",
        description="the paper's protocol and model sizes (a GPU is needed)",
        archs={"U-Net": "unet", "ResNet": "resnet"},
        data="builtin",
        iterations=400_000,
        batch_size=8,
        chunk=8192,
        lr=5e-4,
        record_every=2500,
        val_offset=8.0,
        val_seconds=8.0,
        min_lr=5e-4 / 2**6,
        runtime_seconds=30.0,
        excerpt_seconds=4.0,
        matrix_cells=("matrix",),
    ),
}
