"""Built-in commands, added through the same hook as third-party plugin commands.

They are added lazily (:meth:`audioenh.cli.AudioenhGroup.add_lazy_command`): a command's module,
and with it PyTorch and SciPy, is imported only when that command runs or shows its help.
``tests/test_cli.py`` checks each help line against the command's own.
"""

from ..hookspecs import hookimpl

#: name -> (where the click command is defined, the start of its help: what ``audioenh --help`` shows of it
#: in at most 80 columns)
BUILTIN_COMMANDS = {
    "list": (
        "list_names:list_names",
        "List registered degradations, architectures and metrics, and the bundled models (or one KIND).",
    ),
    "degrade": ("degrade:degrade", "Degrade INPUT and write the result to OUTPUT."),
    "metric": ("metric:metric", "Compare ESTIMATE with REFERENCE (same sample rate, channels and length)."),
    "model-info": (
        "model_info:model_info",
        "Parameter count and MACs of one forward pass over BATCH x CHANNELS x SAMPLES",
    ),
    "data": ("data:data", "Make and inspect corpora."),
    "train": ("train:train", "Train a network to restore what the degradation removes."),
    "test": (
        "testing:test",
        "Degrade whole songs, enhance them with MODEL (a run folder, a checkpoint file or a bundled",
    ),
    "enhance": ("enhance:enhance", "Enhance each INPUT and write the result to OUTPUT."),
    "generalization-report": (
        "report:generalization_report",
        "Train {U-Net, ResNet} x {baseline, DA, BN, DO}, test on the seen and unseen filters, and report.",
    ),
    "weights": ("weights:weights", "Fetch pretrained weights that metrics need (vggish for the vgg metrics)."),
    "benchmark": (
        "benchmark:benchmark",
        "Measure training steps per second, runtime rate, peak memory and achieved TFLOP/s.",
    ),
    "bandwidth": (
        "bandwidth:bandwidth",
        "Estimate where each FILE's band ends (its band edge) from its long-term spectrum.",
    ),
    "matrix": (
        "matrix:matrix",
        "Score each model on every degradation of a set, in raw and safe mode: the generalization matrix.",
    ),
    "matrix-compare": (
        "matrix_compare:matrix_compare",
        "Compare two generalization matrices (BEFORE and AFTER: matrix.json, report.json or their folders).",
    ),
    "cache": (
        "cache:cache",
        "Show what audioenh keeps in its cache folder ($AUDIOENH_CACHE, else ~/.cache/audioenh)",
    ),
}


@hookimpl
def register_commands(cli):
    for name, (target, help_line) in BUILTIN_COMMANDS.items():
        cli.add_lazy_command(name, f"{__package__}.{target}", help_line)
