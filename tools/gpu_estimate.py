"""Estimate, by arithmetic, how long Lessons 4 and 5 take in the `full` profile on a GPU.

    python tools/gpu_estimate.py            # prints a Markdown table
    python tools/gpu_estimate.py --write    # writes it to _includes/gpu-estimate.md (setup page)
    python tools/gpu_estimate.py --check    # fails if that file is not what the tool computes now

No GPU is needed: the sizes come from each lesson's own profile cell (executed here with
DLPS_PROFILE=full), the floating-point operations per image from PyTorch's FlopCounterMode on
the lesson's networks, and the time from

    time = training FLOPs / sustained throughput + optimiser steps x overhead per step

with the assumptions in ASSUMPTIONS (a fraction of each GPU's dense 16-bit tensor-core peak, and
a fixed cost per step for kernel launches and Python, measured on one H200 run). A training
image costs three forward passes (forward, and backward for activations and weights), an
evaluated image one. These are
estimates until a run on the GPU replaces them; the run records (`dlps.record_run`) of such a
run hold the measured times and peak memory.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import jupytext
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: GPU -> (dense fp16/bf16 tensor-core peak in TFLOP/s, fraction sustained by these small
#: networks, seconds of overhead per optimiser step).
#: The step overhead is measured, not assumed: on one NVIDIA H200 (issue 17; torch 2.11, bf16
#: autocast) every 30-epoch CIFAR-10 run of Lesson 4's full profile (10 560 optimiser steps of
#: 128 images, 0.87 PFLOP of training and validation) took 35-47 s, about 41 s. At 15 % of the
#: peak the arithmetic takes 6 s, which leaves 3.3 ms per step for launching kernels, Python and
#: the evaluation between epochs: small networks keep a fast GPU waiting on its host. The T4's
#: host (Colab: two vCPUs) is taken to be no faster, so it gets the same per-step cost.
STEP_OVERHEAD_MEASURED = (41.0 - 0.87e15 / (989e12 * 0.15)) / 10_560
ASSUMPTIONS = {
    "T4 (Colab, 16 GB)": (65.0, 0.25, STEP_OVERHEAD_MEASURED),
    "H100 (80 GB)": (989.0, 0.15, STEP_OVERHEAD_MEASURED),
}


def profile_sizes(lesson: str, profile: str = "full") -> dict:
    """Run the lesson's profile cell (the one with dlps.by_profile) and return its names."""
    import dlps

    os.environ["DLPS_PROFILE"] = profile
    cells = [c.source for c in jupytext.read(ROOT / "lessons" / lesson).cells
             if c.cell_type == "code" and "dlps.by_profile(" in c.source]
    namespace = {"dlps": dlps}
    exec(cells[0], namespace)
    return namespace


def forward_flops(model: nn.Module, shape) -> float:
    """FLOPs of one forward pass of one input of the given shape (C, H, W) or (F,)."""
    model.eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(2, *shape))
    return counter.get_total_flops() / 2


def conv_net(in_channels, side, widths, hidden, num_convs, batch_norm=True):
    layers, c_in = [], in_channels
    for c_out in widths:
        for i in range(num_convs):
            layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1)]
            layers += [nn.BatchNorm2d(c_out)] if batch_norm else []
            layers += [nn.ReLU()]
        layers += [nn.MaxPool2d(2)]
        c_in = c_out
    layers += [nn.Flatten(), nn.Linear(widths[-1] * (side // 4) ** 2, hidden), nn.ReLU(),
               nn.Linear(hidden, 10)]
    return nn.Sequential(*layers)


def work(flops_per_image, trained, evaluated, steps):
    return {"flops": flops_per_image * (3 * trained + evaluated), "steps": steps}


def lesson4() -> list[dict]:
    s = profile_sizes("04_cnn_overfitting.md")
    items = []
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                        nn.ReLU(), nn.Linear(128, 10))
    cnn = conv_net(1, 28, s["mnist_widths"], 64, 1, batch_norm=False)
    for epochs in (s["mnist_epochs"], s["fashion_epochs"]):
        for model in (mlp, cnn):
            flops = forward_flops(model, (1, 28, 28))
            items.append(work(flops, epochs * s["mnist_train_size"],
                              epochs * s["mnist_val_size"] + s["mnist_test_size"],
                              epochs * math.ceil(s["mnist_train_size"] / s["mnist_batch"])))
    cifar = forward_flops(conv_net(3, 32, s["cifar_widths"], 512, s["convs_per_block"]),
                          (3, 32, 32))
    # baseline, five cures, early stopping (counted in full), the combination, and a second
    # seed of the baseline and of the chosen model
    runs = 8 + len(s["seeds"][1:]) * 2
    epochs = s["cifar_epochs"]
    items.append(work(cifar, runs * epochs * s["cifar_train_size"],
                      runs * (epochs * 2 * s["cifar_val_size"]) + 4 * s["cifar_test_size"],
                      runs * epochs * math.ceil(s["cifar_train_size"] / s["cifar_batch"])))
    return items


def lesson5() -> list[dict]:
    s = profile_sizes("05_transfer_learning.md")
    items = []
    small = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 10 * 10, 128), nn.ReLU(),
                          nn.Linear(128, 5))
    digit = forward_flops(small, (1, 40, 40))
    items.append(work(digit, s["source_epochs"] * s["source_train_size"],
                      s["source_epochs"] * s["source_val_size"],
                      s["source_epochs"] * math.ceil(s["source_train_size"] / 128)))
    for per_class in s["digit_label_counts"]:
        n = 5 * per_class
        steps_per_epoch = math.ceil(n / min(64, n))
        epochs = max(s["target_epochs"], math.ceil(s["min_steps"] / steps_per_epoch))
        # validation as large as the labelled set (at most target_val_size), every epoch
        val = 5 * min(per_class, s["target_val_size"] // 5)
        items.append(work(digit, 2 * s["digit_repeats"] * epochs * n,
                          2 * s["digit_repeats"] * epochs * val,
                          2 * s["digit_repeats"] * epochs * steps_per_epoch))
    resnet = forward_flops(torchvision.models.resnet18(num_classes=10),
                           (3, s["image_size"], s["image_size"]))
    embedded = s["cifar_train_size"] + s["cifar_val_size"] + s["cifar_test_size"]
    items.append(work(resnet, 0, embedded, 0))
    items.append(work(resnet, s["finetune_epochs"] * s["finetune_size"],
                      s["finetune_epochs"] * s["cifar_val_size"] + s["cifar_test_size"],
                      s["finetune_epochs"] * math.ceil(s["finetune_size"] / s["batch_size"])))
    for per_class in s["cifar_label_counts"]:
        n = 10 * per_class
        batch = min(s["batch_size"], n)
        steps_per_epoch = math.ceil(n / batch)
        epochs = max(s["scratch_epochs"], math.ceil(s["scratch_min_steps"] / steps_per_epoch))
        val = min(n, s["cifar_val_size"])   # validation as large as the labelled set
        items.append(work(resnet, epochs * n, epochs * val + s["cifar_test_size"],
                          epochs * steps_per_epoch))
    return items


def estimate(items, peak_tflops, fraction, step_overhead) -> float:
    flops = sum(item["flops"] for item in items)
    steps = sum(item["steps"] for item in items)
    return flops / (peak_tflops * 1e12 * fraction) + steps * step_overhead


#: The setup page includes this file; `--write` makes it, `--check` (a test) keeps it current.
INCLUDE = ROOT / "_includes" / "gpu-estimate.md"


def table() -> str:
    lessons = {"Lesson 4 (CNNs and overfitting)": lesson4(),
               "Lesson 5 (transfer learning)": lesson5()}
    columns = ["lesson, `full` profile", "TFLOP (training and evaluation)", "optimiser steps",
               *ASSUMPTIONS]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * (3 + len(ASSUMPTIONS))]
    for name, items in lessons.items():
        flops = sum(item["flops"] for item in items) / 1e12
        steps = sum(item["steps"] for item in items)
        times = [estimate(items, *values) / 60 for values in ASSUMPTIONS.values()]
        lines.append(f"| {name} | {flops:,.0f} | {steps:,} | "
                     + " | ".join(f"about {t:.0f} min" for t in times) + " |")
    lines += ["", "Assumptions: " + "; ".join(
        f"{gpu}: {fraction:.0%} of {peak:g} TFLOP/s, {overhead * 1e3:.1f} ms per step"
        for gpu, (peak, fraction, overhead) in ASSUMPTIONS.items()) + "."]
    return ("% Written by tools/gpu_estimate.py --write; do not edit by hand.\n"
            + "\n".join(lines) + "\n")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = table()
    if "--write" in argv:
        INCLUDE.write_text(text)
        print(f"wrote {INCLUDE}")
    elif "--check" in argv:
        if not INCLUDE.is_file() or INCLUDE.read_text() != text:
            print(f"{INCLUDE} is out of date: run python tools/gpu_estimate.py --write")
            return 1
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
