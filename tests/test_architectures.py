"""The paper's architectures: exact parameter counts, MACs, shapes and options."""

import copy

import pytest
import torch

from audioenh.architectures import count_macs, count_parameters
from audioenh.architectures.layers import (
    CHANNELS_LAST_INFERENCE_MAX_CHANNELS,
    CHANNELS_LAST_TRAINING_MAX_CHANNELS,
    GEMM_MIN_KERNEL,
    Dropout,
    SubPixel1d,
    conv1d_as_gemm,
    conv1d_as_polyphase,
    conv_channels_last_as_polyphase,
    forced_conv,
    forced_layout,
    from_channels_last,
    to_channels_last,
    use_channels_last,
)
from audioenh.errors import SpecError
from audioenh.plugins import architectures


def meta_params(spec: str) -> int:
    with torch.device("meta"):
        return count_parameters(architectures().create(spec))


def test_paper_parameter_counts():
    assert meta_params("unet") == 56_424_324
    assert meta_params("resnet") == 55_074_306


def test_paper_macs_table_iv():
    # one training batch of 8 x 2 x 8192 samples
    assert count_macs(lambda: architectures().create("unet")) / 1e9 == pytest.approx(415.3, abs=0.05)
    assert count_macs(lambda: architectures().create("resnet")) / 1e9 == pytest.approx(3608.3, abs=0.05)


def test_macs_by_hand_on_a_tiny_resnet():
    # head 2->8 k3, 2 blocks of two 8->8 k3 convs, tail 8->2 k1, on 1 x 2 x 100
    expected = 100 * (8 * 2 * 3 + 4 * 8 * 8 * 3 + 2 * 8 * 1)
    assert count_macs(lambda: architectures().create("resnet:preset=tiny"), batch=1, samples=100) == expected


def test_macs_per_second_of_audio():
    per_sample = count_macs(lambda: architectures().create("unet")) / (8 * 8192)
    assert per_sample * 44100 / 1e9 == pytest.approx(279.4, abs=0.1)


def test_batchnorm_drops_conv_bias_in_resnet():
    # 30 block convs lose 512 bias each and gain 2 x 512 BN parameters
    assert meta_params("resnet:batchnorm=true") == 55_074_306 + 30 * 512
    # dropout adds no parameters
    assert meta_params("resnet:dropout=0.5") == 55_074_306
    assert meta_params("unet:dropout=0.5") == 56_424_324


def test_resnet_layout():
    model = architectures().create("resnet")
    assert model.head.kernel_size == (7,) and model.head.out_channels == 512
    assert len(model.blocks) == 15
    assert model.tail.kernel_size == (1,) and model.tail.out_channels == 2
    assert model.blocks[0].scale == 0.1


def test_unet_layout():
    model = architectures().create("unet")
    assert [b[0].kernel_size[0] for b in model.down] == [65, 33, 17, 9]
    assert [b[0].out_channels for b in model.down] == [128, 256, 512, 512]
    assert all(b[0].stride == (2,) for b in model.down)
    assert [b[0].kernel_size[0] for b in model.up] == [17, 33, 65, 9]
    assert [b[0].in_channels for b in model.up] == [1024, 1024, 512, 256]
    assert [b[0].out_channels for b in model.up] == [1024, 512, 256, 4]
    assert model.length_multiple == 32


def test_unet_batchnorm_only_in_down_path_dropout_not_in_down_path():
    bn = architectures().create("unet:preset=tiny,batchnorm=true")
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in bn.down.modules())
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in bn.up.modules())
    do = architectures().create("unet:preset=tiny,dropout=0.5")
    assert not any(isinstance(m, torch.nn.Dropout) for m in do.down.modules())
    assert any(isinstance(m, torch.nn.Dropout) for m in do.up.modules())
    assert any(isinstance(m, torch.nn.Dropout) for m in do.bottleneck.modules())


@pytest.mark.parametrize("length", [1, 7, 31, 32, 33, 1000])
def test_unet_pads_and_crops_any_length(length):
    model = architectures().create("unet:preset=tiny").eval()
    x = torch.randn(2, 2, length)
    assert model(x).shape == x.shape


def test_unet_padding_does_not_change_the_kept_samples_beyond_receptive_effects():
    model = architectures().create("unet:preset=tiny").eval()
    x = torch.randn(1, 2, 64)  # a multiple: no padding
    torch.testing.assert_close(model(x), model(x))


def test_subpixel_interleaves():
    x = torch.arange(12.0).reshape(1, 4, 3)  # 2 channels x factor 2
    y = SubPixel1d(2)(x)
    assert y.shape == (1, 2, 6)
    # channel c, time t*2 + i  <-  input channel i*C + c, time t
    assert y[0, 0].tolist() == [0, 6, 1, 7, 2, 8]
    assert y[0, 1].tolist() == [3, 9, 4, 10, 5, 11]


def test_subpixel_in_channels_last_memory_is_the_same_shuffle():
    x = torch.randn(2, 12, 9)
    y = SubPixel1d(3)(to_channels_last(x))
    assert y.shape == (2, 4, 1, 27) and y.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(from_channels_last(y), SubPixel1d(3)(x))


def test_channels_last_rule():
    x = torch.zeros(1, 2, 8)
    with torch.no_grad():  # inference on the CPU: up to the paper ResNet's width, not the paper U-Net's
        assert use_channels_last(x, CHANNELS_LAST_INFERENCE_MAX_CHANNELS)
        with torch.device("meta"):  # no memory, no time
            resnet, unet = (architectures().create(f"{a}:preset=paper") for a in ("resnet", "unet"))
        assert (resnet.widest, unet.widest) == (512, 1024)
        assert use_channels_last(x, resnet.widest) and not use_channels_last(x, unet.widest)
    with torch.enable_grad():  # training: up to the measured width
        assert use_channels_last(x, CHANNELS_LAST_TRAINING_MAX_CHANNELS)
        assert not use_channels_last(x, CHANNELS_LAST_TRAINING_MAX_CHANNELS + 1)
    assert not use_channels_last(torch.zeros(1, 2, 8, device="meta"), 16)
    # forced (audioenh benchmark --layout): either layout whatever the width, back to the rule after
    with forced_layout("channels-last"), torch.enable_grad():
        assert use_channels_last(x, 4096)
        with forced_layout("pytorch"):
            assert not use_channels_last(x, 16)
        assert use_channels_last(x, 4096)
    assert not use_channels_last(x, 4096)
    with pytest.raises(ValueError, match="layout must be one of"), forced_layout("nhwc"):
        pass


@pytest.mark.parametrize(
    "spec",
    [
        "resnet:width=16,blocks=3,kernel=7",
        "resnet:preset=tiny,batchnorm=true",
        "unet:width=8,depth=3,kernel=17,max_channels=32",
        "unet:preset=tiny,batchnorm=true,dropout=0.5",
    ],
)
def test_channels_last_computes_what_pytorchs_layout_computes(spec):
    """The CPU's channels-last path is the same network: outputs and gradients equal to float rounding."""
    torch.manual_seed(0)
    model = architectures().create(spec)
    for p in model.parameters():  # away from the near-identity initialisation, so that every layer counts
        p.data.normal_(0, 0.3)
    x = torch.randn(3, 2, 1000)

    def run(channels_last: bool):
        net = copy.deepcopy(model)  # BatchNorm's running statistics start alike
        with forced_layout("channels-last" if channels_last else "pytorch"):
            return train_then_infer(net, x)

    fast, slow = run(True), run(False)
    assert fast[1].is_contiguous()
    for a, b in zip(fast, slow):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5 * float(b.abs().max()))


def train_then_infer(net: torch.nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """A training forward and backward pass (dropout masks seeded), then an inference pass: the
    training output, the inference output and every parameter's gradient."""
    net.train()
    torch.manual_seed(1)  # the same dropout masks
    y = net(x)
    (y**2).mean().backward()
    net.eval()
    with torch.no_grad():
        out = net(x)
    return [y.detach(), out, *(p.grad for p in net.parameters())]


@pytest.mark.parametrize(
    "spec",
    [
        "resnet:width=8,blocks=2,kernel=5",
        "resnet:preset=tiny,batchnorm=true",
        "resnet:preset=tiny,dropout=0.5",
        "unet:width=8,depth=3,kernel=17,max_channels=32",
        "unet:preset=tiny,batchnorm=true,dropout=0.5",
    ],
)
@pytest.mark.parametrize("layout", ["channels-last", "pytorch"])
def test_in_place_layers_compute_the_plain_formulas_bit_for_bit(spec, layout):
    """In-place ReLUs and the residual block's ``body.mul_(scale).add_(x)`` compute what out-of-place
    ReLUs and ``x + scale * body`` compute, with the same roundings: outputs and every gradient equal
    bit for bit, training and inference."""
    from audioenh.architectures.resnet import ResidualBlock

    torch.manual_seed(0)
    model = architectures().create(spec)
    for p in model.parameters():
        p.data.normal_(0, 0.3)
    x = torch.randn(3, 2, 700)

    def plain_residual(self, stream):
        return stream + self.scale * self.body(stream).to(stream.dtype)

    def run(plain: bool):
        net = copy.deepcopy(model)
        relus = [m for m in net.modules() if isinstance(m, torch.nn.ReLU)]
        assert relus and all(m.inplace for m in relus)
        with forced_layout(layout), pytest.MonkeyPatch.context() as patch:
            if plain:
                patch.setattr(ResidualBlock, "forward", plain_residual)
                for m in relus:
                    m.inplace = False
            return train_then_infer(net, x)

    for fast, plain in zip(run(False), run(True)):
        assert torch.equal(fast, plain)


def channels_last_polyphase(x, weight, bias, stride, padding):
    """conv_channels_last_as_polyphase between the (batch, channels, samples) forms."""
    y = conv_channels_last_as_polyphase(to_channels_last(x), weight, bias, stride, padding)
    assert y.shape[2] == 1 and y.stride(1) == 1  # the channels-last form, channels contiguous
    return from_channels_last(y)


@pytest.mark.parametrize("samples", [300, 7])
@pytest.mark.parametrize("conv", [conv1d_as_gemm, conv1d_as_polyphase, channels_last_polyphase])
@pytest.mark.parametrize(
    "taps,stride,bias", [(17, 1, True), (33, 2, True), (65, 1, False), (65, 2, True), (17, 2, False), (3, 2, True)]
)
def test_long_kernel_formulations_are_the_convolution(taps, stride, bias, conv, samples):
    """im2col + GEMM, and the short kernel over the input's phases, compute F.conv1d's sums (another
    order; the phases add products with zeros): outputs and all three gradients agree, for lengths
    that are and are not multiples of the phases (7: shorter than one block of 8)."""
    torch.manual_seed(0)
    x = torch.randn(3, 5, samples, requires_grad=True)
    weight = torch.randn(4, 5, taps, requires_grad=True)
    b = torch.randn(4, requires_grad=True) if bias else None
    padding = (taps - 1) // 2
    results = []
    for implementation in (torch.nn.functional.conv1d, conv):
        y = implementation(x, weight, b, stride, padding)
        (y * torch.linspace(0.5, 1.5, y.shape[-1])).sum().backward()
        grads = [t.grad.clone() for t in (x, weight, b) if t is not None]
        for t in (x, weight, b):
            if t is not None:
                t.grad = None
        results.append([y.detach(), *grads])
    assert results[1][0].shape == results[0][0].shape == (3, 4, -(-samples // stride))
    for native, gemm in zip(*results):
        torch.testing.assert_close(gemm, native, rtol=1e-5, atol=1e-5 * float(native.abs().max()))


@pytest.mark.parametrize("conv", [conv1d_as_gemm, conv1d_as_polyphase])
def test_long_kernel_formulations_under_autocast_rearrange_in_autocasts_type(conv):
    torch.manual_seed(0)
    x, weight, bias = torch.randn(2, 8, 256), torch.randn(6, 8, 33), torch.randn(6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = conv(x, weight, bias, 2, 16)
        native = torch.nn.functional.conv1d(x, weight, bias, 2, 16)
    assert y.dtype == native.dtype == torch.bfloat16
    reference = torch.nn.functional.conv1d(x, weight, bias, 2, 16)
    scale = float(reference.abs().max())
    assert float((y.float() - reference).abs().max()) < 0.02 * scale  # bf16: 8 significant bits
    assert float((y.float() - native.float()).abs().max()) < 0.02 * scale


@pytest.mark.parametrize(
    "forced,layout,name",
    [
        ("gemm", "pytorch", "conv1d_as_gemm"),
        ("polyphase", "pytorch", "conv1d_as_polyphase"),
        ("polyphase", "channels-last", "conv_channels_last_as_polyphase"),
    ],
)
def test_a_forced_formulation_runs_the_unets_long_kernels(monkeypatch, forced, layout, name):
    """Inside forced_conv("gemm") (or "polyphase") the U-Net's kernels of GEMM_MIN_KERNEL taps or more
    (and only those) go through conv1d_as_gemm (conv1d_as_polyphase), and the network computes what it
    computes natively."""
    from audioenh.architectures import layers

    calls = []
    formulation = getattr(layers, name)

    def counted(x, weight, *args):
        calls.append(weight.shape[-1])
        return formulation(x, weight, *args)

    monkeypatch.setattr(layers, name, counted)
    torch.manual_seed(0)
    model = architectures().create("unet:width=4,depth=3,kernel=65,max_channels=16")
    for p in model.parameters():
        p.data.normal_(0, 0.3)
    x = torch.randn(2, 2, 512)
    outputs = []
    for implementation in ("native", forced):
        net = copy.deepcopy(model)
        with forced_layout(layout), forced_conv(implementation):
            y = net(x)
            (y**2).mean().backward()
        outputs.append([y.detach(), *(p.grad for p in net.parameters())])
    long_kernels = [m.kernel_size[0] for m in model.modules() if isinstance(m, torch.nn.Conv1d)]
    long_kernels = [k for k in long_kernels if k >= GEMM_MIN_KERNEL]
    assert sorted(calls) == sorted(long_kernels) and min(calls) >= GEMM_MIN_KERNEL and len(calls) >= 3
    for native, gemm in zip(*outputs):
        torch.testing.assert_close(gemm, native, rtol=1e-4, atol=1e-5 * float(native.abs().max()))
    with pytest.raises(ValueError, match="conv must be one of"):
        with forced_conv("winograd"):
            pass


@pytest.mark.parametrize("layout", ["pytorch", "channels-last"])
@pytest.mark.parametrize("arch", ["unet:width=4,depth=3,kernel=33,max_channels=16", "resnet:width=8,blocks=2,kernel=7"])
def test_a_forced_fft_runs_every_convolution_of_seven_taps_or_more(monkeypatch, layout, arch):
    """Inside forced_conv("fft") every convolution of FFT_MIN_KERNEL taps or more (the ResNet's 7-tap ones
    too; the U-Net's strided down path over its input's phases) goes through conv1d_as_fft, and the
    network's output and gradients equal its native ones to float rounding."""
    from audioenh.architectures import layers

    calls = []

    def counted(x, weight, bias, padding, stride=1):
        calls.append(weight.shape)
        return fft_conv1d(x, weight, bias, padding, stride=stride)

    fft_conv1d = layers.conv1d_as_fft
    monkeypatch.setattr(layers, "conv1d_as_fft", counted)
    torch.manual_seed(0)
    model = architectures().create(arch)
    for p in model.parameters():
        p.data.normal_(0, 0.3)
    x = torch.randn(2, 2, 512)
    outputs = []
    for implementation in ("native", "fft"):
        net = copy.deepcopy(model)
        with forced_layout(layout), forced_conv(implementation):
            y = net(x)
            (y**2).mean().backward()
        outputs.append([y.detach(), *(p.grad for p in net.parameters())])
    expected = [
        m.weight.shape
        for m in model.modules()
        if isinstance(m, torch.nn.Conv1d) and m.kernel_size[0] >= layers.FFT_MIN_KERNEL
    ]
    assert any(m.stride[0] > 1 for m in model.modules() if isinstance(m, torch.nn.Conv1d)) == arch.startswith("unet")
    assert sorted(calls) == sorted(expected) and len(calls) >= 3
    for native, fft in zip(*outputs):
        torch.testing.assert_close(fft, native, rtol=1e-4, atol=1e-5 * float(native.abs().max()))


def test_the_fft_rule_on_the_cpu_follows_the_measured_widths_and_kernels(monkeypatch):
    """conv_implementation on the CPU in float32 (tools/fft_conv_speed.py, docs/performance.md): the FFT
    form for long kernels from FFT_MIN_TAPS_X_CHANNELS taps x channels, for short ones from
    FFT_SHORT_KERNEL_MIN_CHANNELS in inference and FFT_SHORT_KERNEL_TRAINING_MIN_CHANNELS in training (the
    paper ResNet's 512); under bf16 autocast long kernels in inference on CPUs with bf16 hardware only
    (measured there: the paper U-Net), never where the width is unknown."""
    from audioenh.architectures import layers

    x = torch.zeros(1, 4, 16)
    rule = layers.conv_implementation
    assert [rule(x, 17, 128), rule(x, 33, 64), rule(x, 65, 32)] == ["fft"] * 3
    assert [rule(x, 17, 64), rule(x, 33, 32), rule(x, 65, 31)] == ["native"] * 3  # the quick U-Net's widths
    assert rule(x, layers.FFT_LONG_KERNEL - 2, 256) == "native"
    assert rule(x, 65, 0) == "native"  # width unknown
    assert rule(x.unsqueeze(2), 33, 128) == "fft"  # the channels-last form too
    assert layers.FFT_SHORT_KERNEL_MIN_CHANNELS < layers.FFT_SHORT_KERNEL_TRAINING_MIN_CHANNELS <= 512
    assert rule(x, 7, layers.FFT_SHORT_KERNEL_MIN_CHANNELS) == "native"  # training: from wider layers only
    assert rule(x, 7, layers.FFT_SHORT_KERNEL_TRAINING_MIN_CHANNELS) == "fft"  # the paper ResNet's training
    with torch.no_grad():
        assert rule(x, 7, layers.FFT_SHORT_KERNEL_MIN_CHANNELS) == "fft"  # the paper ResNet in inference
        assert rule(x, 7, layers.FFT_SHORT_KERNEL_MIN_CHANNELS // 2) == "native"
        assert rule(x, 5, 1024) == "native"
    for bf16_hardware in (False, True):  # under bf16 autocast: long kernels in inference, with bf16 hardware only
        monkeypatch.setattr(layers, "_cpu_computes_bf16", lambda hardware=bf16_hardware: hardware)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert rule(x, 65, 512) == "native"  # training
            with torch.no_grad():
                assert rule(x, 65, 256) == rule(x, 17, 1024) == ("fft" if bf16_hardware else "native")  # paper U-Net
                assert rule(x, 17, 128) == rule(x, 33, 64) == "native"  # the `small` U-Net's widths
                assert rule(x, 33, 32) == rule(x, 7, 512) == "native"  # the quick U-Net, the paper ResNet
    with forced_conv("native"), torch.no_grad():
        assert rule(x, 65, 512) == "native"
    with forced_conv("fft"):
        assert rule(x, 7, 1) == "fft" and rule(x, 5, 512) == "native"


def test_the_conv_rule_rewrites_long_kernels_only_on_cuda_under_reduced_precision(monkeypatch):
    """conv_implementation: the measured rule (H200, the paper U-Net's bf16 training: 9.7 steps/s
    natively, 77.9 as GEMMs, 86 polyphase in channels-last memory); a stand-in for a CUDA tensor, as
    the tests run without a GPU."""
    from types import SimpleNamespace

    from audioenh.architectures import layers

    def tensor(device):
        return SimpleNamespace(dim=lambda: 3, device=torch.device(device))

    autocast_type = {"cuda": torch.bfloat16}
    monkeypatch.setattr(layers, "_autocast_dtype", lambda device_type: autocast_type.get(device_type))

    def gemm(x, taps):
        return layers.conv_implementation(x, taps) == "gemm"

    assert gemm(tensor("cuda"), GEMM_MIN_KERNEL) and gemm(tensor("cuda"), 65)
    assert not gemm(tensor("cuda"), GEMM_MIN_KERNEL - 1)  # short kernels: cuDNN's are fast
    assert not gemm(tensor("cpu"), 65)  # measured slower on the CPU
    autocast_type["cuda"] = torch.float16
    assert gemm(tensor("cuda"), 65)
    autocast_type.clear()  # fp32 on CUDA: PyTorch's own
    assert not gemm(tensor("cuda"), 65)
    with forced_conv("gemm"):
        assert gemm(tensor("cpu"), 65) and not gemm(tensor("cpu"), 9)
    autocast_type["cuda"] = torch.bfloat16
    with forced_conv("native"):
        assert not gemm(tensor("cuda"), 65)
    channels_last = SimpleNamespace(dim=lambda: 4, device=torch.device("cuda"))
    assert not gemm(channels_last, 65)  # the channels-last form runs as conv2d
    # in channels-last memory (CUDA's layout under bf16/fp16): the polyphase form (H200: 86 against 78)
    assert layers.conv_implementation(channels_last, 65) == "polyphase"
    assert layers.conv_implementation(channels_last, GEMM_MIN_KERNEL - 2) == "native"
    assert layers.conv_implementation(tensor("cuda"), 65) == "gemm"
    autocast_type.clear()
    assert layers.conv_implementation(channels_last, 65) == "native"  # fp32: PyTorch's own


def test_the_layout_rule_on_cuda_is_channels_last_under_reduced_precision_only(monkeypatch):
    """use_channels_last on CUDA (a stand-in tensor, as the tests run without a GPU): channels-last at
    any width under bf16 or fp16 autocast (measured faster for both paper models), else PyTorch's."""
    from types import SimpleNamespace

    from audioenh.architectures import layers

    cuda = SimpleNamespace(dim=lambda: 3, device=torch.device("cuda"))
    autocast_type = {}
    monkeypatch.setattr(layers, "_autocast_dtype", lambda device_type: autocast_type.get(device_type))
    for grad in (True, False):
        with torch.set_grad_enabled(grad):
            assert not use_channels_last(cuda, 16)  # fp32 (IEEE) or tf32
            for dtype in (torch.bfloat16, torch.float16):
                autocast_type["cuda"] = dtype
                assert use_channels_last(cuda, 1024) and use_channels_last(cuda, 16)
                with forced_layout("pytorch"):
                    assert not use_channels_last(cuda, 1024)
            autocast_type.clear()
            autocast_type["cpu"] = torch.bfloat16  # CPU autocast says nothing about CUDA
            assert not use_channels_last(cuda, 16)
            autocast_type.clear()


def test_options_override_presets():
    model = architectures().create("resnet:preset=tiny,width=16,blocks=3,kernel=5")
    assert model.head.out_channels == 16 and len(model.blocks) == 3 and model.head.kernel_size == (5,)
    model = architectures().create("unet:preset=tiny,depth=3,width=4,kernel=17")
    assert [b[0].kernel_size[0] for b in model.down] == [17, 9, 5]
    assert model.length_multiple == 16


def test_zero_init_output_is_close_to_identity():
    # the additive input connection means an untrained model stays near its input
    model = architectures().create("resnet:preset=tiny").eval()
    x = torch.randn(1, 2, 256)
    assert torch.mean((model(x) - x) ** 2) < 0.1 * torch.mean(x**2)


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("resnet:preset=huge", "unknown preset 'huge'"),
        ("resnet:kernel=4", "kernel must be odd"),
        ("unet:width=0", "width must be a positive integer"),
        ("unet:dropout=1.5", "dropout must be in [0, 1)"),
        ("resnet:depth=3", "unexpected keyword argument 'depth'"),
    ],
)
def test_bad_options(spec, fragment):
    with pytest.raises(SpecError) as info:
        architectures().create(spec)
    assert fragment in str(info.value)


@pytest.mark.parametrize("p", [0.5, 0.1, 0.9])
def test_dropout_keeps_each_element_with_probability_one_minus_p(p):
    """The CPU mask (16 random bits per element) keeps 1 - p of 2 million elements (binomial standard
    deviation below 0.0004), scales the kept ones by 1 / (1 - p), passes gradients through the mask,
    repeats under the same seed, and is the identity in eval mode."""
    layer = Dropout(p).train()
    x = torch.ones(2000, 1000, requires_grad=True)
    torch.manual_seed(1)
    y = layer(x)
    kept = y > 0
    assert abs(kept.float().mean().item() - (1 - p)) < 0.002
    assert torch.allclose(y[kept], torch.tensor(1 / (1 - p)))
    y.sum().backward()
    assert torch.equal(x.grad, kept.float() / (1 - p))
    torch.manual_seed(1)
    assert torch.equal(layer(x), y)
    assert not torch.equal(layer(x), y)  # a new mask each call
    assert torch.equal(layer.eval()(x), x)


def test_dropout_layers_are_the_fast_cpu_dropout():
    for spec in ("resnet:preset=tiny,dropout=0.5", "unet:preset=tiny,dropout=0.5"):
        model = architectures().create(spec)
        found = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
        assert found and all(type(m) is Dropout for m in found)


def test_resnet_keeps_its_residual_stream_in_float32_under_bf16_autocast():
    """Only the blocks' convolutions run in bf16: head, stream and tail stay float32, so the bundled
    11-kHz Chebyshev II ResNet's bf16 output on a Chebyshev II-filtered built-in song lies 33.6 dB from
    its float32 output (18.3 dB when the whole network ran in bf16); without autocast nothing changes.
    (The Chebyshev I model inverts a steeper slope: its bf16 output lies only 8.7 dB from float32, one
    reason ``--precision auto`` keeps ResNets in float32.)"""
    import numpy as np

    from audioenh.architectures.layers import from_channels_last, to_channels_last
    from audioenh.checkpoint import load_model
    from audioenh.data.builtin.song import generate_song
    from audioenh.degradations.chain import DegradationSampler
    from audioenh.precision import autocast
    from audioenh.pretrained import resolve_model

    from .conftest import SR

    model, _ = load_model(resolve_model("resnet-11k-cheby2"))
    model.eval()
    clean = generate_song(5, 1.0, SR)
    degraded = DegradationSampler("cheby2:order=8", SR).build("cheby2:order=8")(clean, SR, np.random.default_rng(0))
    x = torch.tensor(np.ascontiguousarray(degraded)[None], dtype=torch.float32)
    with torch.no_grad():
        full = model(x)
        # the same layers composed by hand, in the channels-last memory the CPU runs them in
        plain = x + from_channels_last(model.tail(model.blocks(model.head(to_channels_last(x)))))
        dtypes = {}

        def record(name):
            def hook(module, inputs, output):
                dtypes[name] = output.dtype

            return hook

        hooks = [getattr(model, name).register_forward_hook(record(name)) for name in ("head", "blocks", "tail")]
        with autocast("bf16", "cpu"):
            low = model(x)
        for hook in hooks:
            hook.remove()
    assert torch.equal(full, plain)
    assert low.dtype == torch.float32 and dtypes == dict.fromkeys(("head", "blocks", "tail"), torch.float32)
    agreement = 10 * torch.log10((full**2).sum() / ((full - low) ** 2).sum())
    assert agreement > 20


def test_which_formulation_a_long_kernel_gets_in_either_layout():
    from audioenh.architectures.layers import conv_implementation

    flat, channels_last = torch.empty(1, 2, 64), torch.empty(1, 2, 1, 64)
    with forced_conv("gemm"):  # the GEMM form takes PyTorch's layout only
        assert [conv_implementation(t, 33) for t in (flat, channels_last)] == ["gemm", "native"]
    with forced_conv("polyphase"):
        assert [conv_implementation(t, 33) for t in (flat, channels_last)] == ["polyphase"] * 2
        assert conv_implementation(flat, GEMM_MIN_KERNEL - 2) == "native"  # short kernels: always
    assert [conv_implementation(t, 33) for t in (flat, channels_last)] == ["native"] * 2  # CPU rule


@pytest.mark.parametrize("arch", ["unet:preset=tiny,kernel=33", "resnet:preset=tiny"])
@pytest.mark.parametrize(
    "layout,conv", [("auto", "auto"), ("channels-last", "polyphase"), ("pytorch", "gemm"), ("auto", "fft")]
)
def test_torch_compile_traces_the_built_in_networks_in_one_graph(arch, layout, conv):
    """No graph break in the networks under autocast, whichever layout and long-kernel form the rules
    pick: a break at every convolution (as reading a ContextVar made) leaves torch.compile and CUDA
    graphs little to fuse or replay (the paper U-Net's bf16 step on an H200 is bound by queuing kernels)."""
    import torch._dynamo as dynamo

    model = architectures().create(arch)
    dynamo.reset()
    with forced_layout(layout), forced_conv(conv), torch.autocast("cpu", dtype=torch.bfloat16):
        explained = dynamo.explain(model)(torch.randn(2, 2, 1024))
    dynamo.reset()
    assert (explained.graph_count, explained.graph_break_count) == (1, 0), explained.break_reasons


def test_the_fft_rule_leaves_the_quick_reports_and_the_bundled_models_convolutions_as_they_were():
    """The rule's thresholds keep the quick report's networks and every bundled model on PyTorch's
    convolutions on the CPU (their results stay bit for bit what they were) and send the paper U-Net's
    wide long kernels (and, in inference, its 512-channel bottleneck) and the ``small`` U-Net's through the FFT form."""
    from audioenh.architectures import layers
    from audioenh.checkpoint import load_model
    from audioenh.pretrained import BUNDLED, bundled
    from audioenh.reports.presets import PRESETS, VARIANTS

    def fft_convolutions(model: torch.nn.Module) -> list[int]:
        """The (taps, stride) of ``model``'s convolutions the rule sends through the FFT form on the CPU,
        in training or inference."""
        taps = []
        for module in model.modules():
            if isinstance(module, torch.nn.Conv1d):
                x = torch.zeros(1, module.in_channels, 8, device="cpu")
                stride = module.stride[0]
                width = min(module.in_channels * stride, module.out_channels)
                for grad in (False, True):
                    with torch.set_grad_enabled(grad):
                        if layers.conv_implementation(x, module.kernel_size[0], width, stride) == "fft":
                            taps.append((module.kernel_size[0], stride))
        return taps

    quick = PRESETS["quick"]
    for arch in quick.archs:
        for variant in VARIANTS:
            with torch.device("meta"):
                model = architectures().create(quick.arch_spec(arch, variant))
            assert fft_convolutions(model) == [], (arch, variant)
    for name in BUNDLED:
        if hasattr(BUNDLED[name], "resource"):
            model, _ = load_model(bundled(name).resource)
            assert fft_convolutions(model) == [], name
    with torch.device("meta"):
        # stride 1: the up path and (9 taps) the bottleneck; stride 2: the down path's 33 and (inference) 17 taps
        expected = [(9, 1), (17, 1), (17, 2), (33, 1), (33, 2), (65, 1)]
        assert sorted(set(fft_convolutions(architectures().create("unet")))) == expected
        assert fft_convolutions(architectures().create("unet:preset=small"))
