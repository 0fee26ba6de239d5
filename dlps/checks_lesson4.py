"""Checks for the exercises of Lesson 4 (exercises/04_cnn_overfitting).

Each function is called by the check cell after one gap and works the right answer out itself:
shapes and parameter counts from PyTorch's own layers, convolutions from ``F.conv2d``, the
augmentation by searching every allowed shift; see ``dlps.checks`` for the conventions.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checks import CheckFailed, call, exercise_check, expect, expect_close, passed, to_tensor

# (n, k, p, s) cases for the output-size formula: odd and even sides, padding, strides that do
# and do not divide evenly.
_SIZE_CASES = [(5, 3, 0, 1), (5, 3, 1, 1), (5, 3, 1, 2), (28, 5, 2, 1), (28, 3, 0, 2),
               (32, 3, 1, 2), (7, 2, 0, 2), (9, 4, 1, 3)]


def _exercise_network():
    """The network of Exercise 1 (built here, never shown to the learner as numbers)."""
    return [nn.Conv2d(1, 8, kernel_size=5, padding=2), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=3, stride=2)]


@exercise_check
def output_size(output_size):
    """Exercise 1.1: the output-size formula, tried on several layers."""
    for n, k, p, s in _SIZE_CASES:
        got = call("output_size", output_size, n, k, p, s)
        whole = isinstance(got, (int, np.integer)) or (isinstance(got, float)
                                                        and got.is_integer())
        expect(whole, "output_size", f"returns a {type(got).__name__} ({got!r}), not a whole "
               "number of pixels.", "Round down with floor division //.")
        true = nn.Conv2d(1, 1, k, padding=p, stride=s)(torch.zeros(1, 1, n, n)).shape[-1]
        if int(got) == true:
            continue
        if s > 1 and int(got) == n + 2 * p - k + 1:
            raise CheckFailed("output_size", f"ignores the stride (wrong for n={n}, k={k}, "
                              f"p={p}, s={s}).", "The kernel moves s pixels at a time.")
        if p > 0 and int(got) == (n - k) // s + 1:
            raise CheckFailed("output_size", "ignores the padding.",
                              "Padding adds p pixels on both sides of the image.")
        raise CheckFailed("output_size", f"is wrong for n={n}, k={k}, p={p}, s={s}.",
                          "Count the positions where the kernel fits in the padded image.")
    passed("output_size", None, f"right for all {len(_SIZE_CASES)} layers tried")


@exercise_check
def network_sizes(sides, conv_params):
    """Exercise 1.2: the side after each layer and the parameters of both convolutions."""
    layers = _exercise_network()
    x, true_sides = torch.zeros(1, 1, 28, 28), []
    for layer in layers:
        x = layer(x)
        true_sides.append(x.shape[-1])
    got = to_tensor("sides", sides)
    expect(got.numel() == len(true_sides), "sides",
           f"holds {got.numel()} numbers; give one side per layer ({len(true_sides)} layers).")
    for i, (g, t) in enumerate(zip(got.tolist(), true_sides)):
        expect(g == t, "sides", f"entry {i} (after layer {i + 1}) is wrong"
               + ("; the ones before it are right." if i else "."),
               "Feed each layer's output side into the formula for the next layer.")
    true_params = [sum(p.numel() for p in layer.parameters()) for layer in layers[::2]]
    got = to_tensor("conv_params", conv_params)
    expect(got.numel() == 2, "conv_params", f"holds {got.numel()} numbers, not 2.")
    for i, (g, layer, t) in enumerate(zip(got.tolist(), layers[::2], true_params)):
        name = f"conv_params[{i}]"
        if g == t:
            continue
        if g == t - layer.out_channels:
            raise CheckFailed(name, "leaves out the biases.",
                              "Each output channel has one bias.")
        if g == layer.out_channels * (layer.kernel_size[0] ** 2 + 1):
            raise CheckFailed(name, "leaves out the input channels.",
                              "Each output channel has one k x k kernel per input channel.")
        raise CheckFailed(name, "is wrong.", "Count the weights of every kernel and the "
                          "biases, per output channel.")
    passed("sides and conv_params", None, f"sides {true_sides}, parameters {true_params}")


@exercise_check
def conv2d_by_hand(conv2d_by_hand):
    """Exercise 2: a multi-channel convolution (cross-correlation) with bias, against
    ``F.conv2d`` on random inputs of two sizes."""
    generator = torch.Generator().manual_seed(4)
    for c_in, c_out, side, k in [(3, 2, 6, 3), (2, 4, 5, 2)]:
        x = torch.randn(c_in, side, side, generator=generator)
        w = torch.randn(c_out, c_in, k, k, generator=generator)
        b = torch.randn(c_out, generator=generator)
        true = F.conv2d(x[None], w, b)[0]
        got = to_tensor("conv2d_by_hand(x, w, b)", call("conv2d_by_hand", conv2d_by_hand,
                                                         x, w, b))
        if got.shape == true.shape and torch.allclose(
                got, F.conv2d(x[None], w.flip(-2, -1), b)[0].double(), atol=1e-4):
            raise CheckFailed("conv2d_by_hand", "flips the kernel: that is a true "
                              "convolution, not what nn.Conv2d computes.",
                              "Multiply each window with the kernel as it is.")
        if got.shape == true.shape and torch.allclose(got, (true - b[:, None, None]).double(),
                                                      atol=1e-4):
            raise CheckFailed("conv2d_by_hand", "leaves out the bias.",
                              "Add b[c] to every pixel of output channel c.")
        expect_close("conv2d_by_hand(x, w, b)", got, true, rtol=1e-4, atol=1e-4,
                     hint="Output channel c at (i, j) sums w[c] times the C_in x k x k "
                          "window of x that starts at (i, j), over all input channels.")
    passed("conv2d_by_hand", None, "equals F.conv2d for two layer shapes")


def _shift_offsets(original: torch.Tensor, shifted: torch.Tensor, max_shift: int):
    """All (dy, dx, mirrored) with |dy|, |dx| <= max_shift that turn original into shifted."""
    padded = F.pad(original, (max_shift,) * 4)
    side = original.shape[-1]
    found = []
    for dy in range(2 * max_shift + 1):
        for dx in range(2 * max_shift + 1):
            window = padded[..., dy:dy + side, dx:dx + side]
            for mirrored, candidate in ((False, window), (True, window.flip(-1))):
                if torch.equal(candidate, shifted):
                    found.append((dy - max_shift, dx - max_shift, mirrored))
    return found


@exercise_check
def shift_digits(shift_digits, images):
    """Exercise 3: random shifts of at most max_shift pixels, zero fill, never a mirror."""
    max_shift = 2
    sample = images[:64].cpu()
    got = call("shift_digits", shift_digits, images[:64], max_shift)
    expect(isinstance(got, torch.Tensor), "shift_digits(...)",
           f"returns a {type(got).__name__}, not a tensor.")
    expect(got.shape == sample.shape and got.dtype == sample.dtype, "shift_digits(...)",
           f"returns shape {tuple(got.shape)} and dtype {got.dtype} for uint8 images of shape "
           f"{tuple(sample.shape)}.", "Keep the shape and the uint8 type of the batch.")
    got = got.cpu()
    offsets, mirrored_only = [], 0
    for i, (orig, out) in enumerate(zip(sample, got)):
        found = _shift_offsets(orig, out, max_shift)
        if not found:
            wider = _shift_offsets(orig, out, 2 * max_shift + 2)
            what = ("shifted further than max_shift" if wider
                    else "not a shifted copy of its original")
            raise CheckFailed("shift_digits(...)", f"image {i} is {what}.",
                              "Pad by max_shift zeros on every side, then cut out a window of "
                              "the original size at a random offset.")
        if all(m for _, _, m in found):
            mirrored_only += 1
        offsets.append(found[0][:2])
    expect(mirrored_only == 0, "shift_digits(...)",
           f"mirrors {mirrored_only} of 64 digits: a mirrored digit is not the same digit, so "
           "the label would be wrong.", "Shift only; no flips for digits.")
    expect(len(set(offsets)) >= 5, "shift_digits(...)",
           f"uses only {len(set(offsets))} different shifts for 64 images.",
           "Draw a new random offset for every image, not one for the whole batch.")
    passed("shift_digits", None, f"{len(set(offsets))} different shifts, no mirrors")


def _final_gap(history) -> float:
    return history["train_acc"][-1] - history["val_acc"][-1]


@exercise_check
def ablation(ablation, num_epochs):
    """Exercise 4.1: at least two settings, every history complete, and the strongest setting
    narrows the train-validation gap of the run without the cure."""
    expect(isinstance(ablation, dict), "ablation",
           f"is a {type(ablation).__name__}, not a dictionary of results.")
    expect(len(ablation) >= 2, "ablation", f"holds {len(ablation)} run(s); an ablation "
           "compares at least the run without the cure and one with it.")
    for name, result in ablation.items():
        history = result.get("history", result) if isinstance(result, dict) else None
        expect(isinstance(history, dict) and {"train_acc", "val_acc"} <= set(history),
               f"ablation[{name!r}]", "has no training and validation accuracy history.",
               "Store what dlps.fit returns (train_probe gives the training accuracy).")
        lengths = {len(history["train_acc"]), len(history["val_acc"])}
        expect(len(lengths) == 1 and lengths.pop() >= 1, f"ablation[{name!r}]",
               "has training and validation histories of different lengths.")
        expect(len(history["val_acc"]) <= num_epochs, f"ablation[{name!r}]",
               f"has more evaluations than the {num_epochs} epochs.")
    histories = [r.get("history", r) for r in ablation.values()]
    without, strongest = _final_gap(histories[0]), _final_gap(histories[-1])
    expect(strongest < without, "ablation",
           f"the last (strongest) setting does not narrow the final train-validation gap "
           f"of the first run (the one without the cure): {strongest:.3f} against "
           f"{without:.3f}.",
           "Put the run without the cure first and the strongest setting last; if the order "
           "is right, try a stronger setting.")
    passed("ablation", None, f"{len(ablation)} runs; final gap {without:.3f} without the "
           f"cure, {strongest:.3f} with the strongest setting")


@exercise_check
def chosen_on_validation(ablation, chosen):
    """Exercise 4.2: the run chosen by its best validation accuracy."""
    expect(chosen in ablation, "chosen", f"is {chosen!r}, which is not a key of ablation.")
    scores = {name: max(r.get("history", r)["val_acc"]) for name, r in ablation.items()}
    best = max(scores, key=scores.get)
    if chosen != best:
        train = {name: max(r.get("history", r)["train_acc"]) for name, r in ablation.items()}
        if chosen == max(train, key=train.get):
            raise CheckFailed("chosen", "is the run with the best training accuracy.",
                              "Training accuracy rewards overfitting; choose on validation.")
        raise CheckFailed("chosen", "is not the run with the best validation accuracy.",
                          "Compare the best validation accuracy of every run.")
    passed("chosen", chosen, f"best validation accuracy {scores[chosen]:.3f}")
