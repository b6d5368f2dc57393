"""Paper-size model timings on a GPU: training iterations/s (fp32 and bf16 autocast) and runtime rate.

python tools/paper_timings.py   # prints a Markdown table
"""

import time

import numpy as np
import torch

from audioenh.evaluation.inference import enhance_array
from audioenh.plugins import architectures

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.backends.cudnn.benchmark = True
print(f"device: {torch.cuda.get_device_name(0) if device.type == 'cuda' else 'cpu'}, torch {torch.__version__}")
print("| model | precision | training it/s (8 x 2 x 8192) | runtime rate (s per s of audio) |")
print("|---|---|---:|---:|")
for spec in ("unet", "resnet"):
    model = architectures().create(spec).to(device)
    opt = torch.optim.Adam(model.parameters(), 5e-4)
    x = torch.randn(8, 2, 8192, device=device) * 0.1
    for precision in ("fp32", "bf16"):
        ctx = torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16")

        def step(model=model, opt=opt, x=x, ctx=ctx):
            with ctx:
                loss = torch.nn.functional.mse_loss(model(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()

        for _ in range(15):  # cudnn.benchmark tunes each new shape and dtype first
            step()
        torch.cuda.synchronize()
        n, t = 30, time.perf_counter()
        for _ in range(n):
            step()
        torch.cuda.synchronize()
        its = n / (time.perf_counter() - t)
        audio = (np.random.default_rng(0).standard_normal((2, 30 * 44100)) * 0.1).astype(np.float32)
        model.eval()
        with ctx:
            enhance_array(model, audio, device=device, batch_size=8)  # warm-up on the same shapes
            torch.cuda.synchronize()
            t = time.perf_counter()
            enhance_array(model, audio, device=device, batch_size=8)
            torch.cuda.synchronize()
        rate = (time.perf_counter() - t) / 30
        model.train()
        print(f"| {spec} | {precision} | {its:.1f} | {rate:.4f} |")
