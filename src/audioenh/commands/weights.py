"""``audioenh weights``: fetch pretrained weights that metrics need, and show where they are looked for."""

from __future__ import annotations

import hashlib
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import click

from ..errors import AudioenhError
from ..fileio import atomic_path

#: Names ``weights fetch`` knows.
WEIGHT_NAMES = ("vggish",)
_CHUNK = 1 << 20


def download(url: str, dest: Path, sha256_prefix: str | None = None, timeout: float = 60.0) -> None:
    """Download ``url`` to ``dest`` with a progress bar on stderr; check the SHA-256 prefix if given.

    Raises :class:`AudioenhError` with one line when the network fails or the hash differs.
    """
    name = url.rsplit("/", 1)[-1]
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AudioenhError(
            f"cannot download {url} ({reason}); check the network connection or proxy, or download "
            "the file by hand and point AUDIOENH_VGGISH_WEIGHTS at it"
        ) from None
    from tqdm import tqdm

    digest = hashlib.sha256()
    try:
        with response, open(dest, "wb") as out:
            total = response.headers.get("Content-Length") if getattr(response, "headers", None) else None
            with tqdm(
                total=int(total) if total else None,
                unit="B",
                unit_scale=True,
                desc=name,
                file=sys.stderr,
                leave=False,
                disable=None,  # no bar when stderr is not a terminal
            ) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError) as exc:
        raise AudioenhError(f"download of {url} failed: {getattr(exc, 'reason', exc)}") from None
    if sha256_prefix and not digest.hexdigest().startswith(sha256_prefix):
        raise AudioenhError(
            f"{name}: SHA-256 {digest.hexdigest()[:16]}... does not start with {sha256_prefix}; the download is "
            "corrupt or the file changed, nothing was written"
        )


def fetch_vggish(target: Path) -> Path:
    """Download the published torchvggish network and PCA files and write them merged to ``target``.

    The merged file holds every key of :data:`audioenh.metrics.vggish.VGGISH_KEYS` as float32 tensors.
    It is written to a temporary file beside ``target`` and renamed into place, so an interrupted
    fetch leaves nothing behind.
    """
    import torch

    from ..metrics.vggish import NETWORK_KEYS, PUBLISHED_FILES, check_state, load_weights_file

    target = Path(target).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".vggish-fetch-") as tmp:
        model_url, model_hash = PUBLISHED_FILES["model"]
        pca_url, pca_hash = PUBLISHED_FILES["pca"]
        model_file = Path(tmp) / model_url.rsplit("/", 1)[-1]
        pca_file = Path(tmp) / pca_url.rsplit("/", 1)[-1]
        download(model_url, model_file, model_hash)
        download(pca_url, pca_file, pca_hash)
        state = load_weights_file(model_file)
        pca = load_weights_file(pca_file)
        network = {k: v for k, v in state.items() if k in NETWORK_KEYS}
        pca_params = {k: v for k, v in pca.items() if k in ("pca_eigen_vectors", "pca_means")}
        merged = check_state({**network, **pca_params}, model_file)
        with atomic_path(target) as partial:
            torch.save(merged, partial)
    return target


@click.group("weights")
def weights():
    """Fetch pretrained weights that metrics need (vggish for the vgg metrics)."""


@weights.command("fetch")
@click.argument("name", type=click.Choice(WEIGHT_NAMES))
@click.option(
    "--to",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: the user cache, see 'audioenh weights path vggish').",
)
def fetch(name: str, target: Path | None):
    """Download the published weights NAME and store them where the metrics find them.

    vggish: the torchvggish v0.1 release (network and PCA parameters, about 290 MB), checked
    against their published SHA-256 prefixes and written as one PyTorch file.
    """
    from ..metrics.vggish import WEIGHTS_ENV, cache_path

    destination = target if target is not None else cache_path()
    try:
        written = fetch_vggish(destination)
    except AudioenhError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # e.g. the target folder cannot be created or written
        raise click.ClickException(f"cannot write {destination}: {exc.strerror or exc}") from None
    click.echo(f"wrote {written}")
    if target is not None and target.expanduser().resolve() != cache_path().resolve():
        click.echo(f"the metrics look there when {WEIGHTS_ENV}={written} is set (or pass vgg:weights={written})")


@weights.command("path")
@click.argument("name", type=click.Choice(WEIGHT_NAMES))
def path(name: str):
    """Print the weights file the metrics use for NAME ($AUDIOENH_VGGISH_WEIGHTS, else the user cache).

    A note on stderr says when the file is missing.
    """
    from ..metrics.vggish import weights_location

    location, source = weights_location()
    click.echo(str(location))
    if not location.is_file():
        click.echo(f"(missing; from {source}: run 'audioenh weights fetch {name}')", err=True)
