"""Checks for the exercises of Lesson 1 (exercises/01_tensors_autograd).

Each function is called by the check cell after one gap and works out the right answer itself,
from the inputs it is given, in float64; see ``dlps.checks`` for the conventions.
"""

from __future__ import annotations

import os
import random
import time
from unittest import mock

import numpy as np
import torch

from .checks import (
    CheckFailed,
    call,
    exercise_check,
    expect,
    expect_close,
    expect_shape,
    join_names,
    passed,
    to_tensor,
)

_GRAD_LABELS = ["dh/dx", "dh/dy"]
_POINT = (0.5, 2.0)  # where the exercise evaluates the gradient of h


def _true_pairwise(positions) -> tuple[torch.Tensor, torch.Tensor]:
    """Displacements r_i - r_j and distances by explicit loops (slow, obviously right)."""
    r = to_tensor("positions", positions)
    n = len(r)
    displacements = torch.stack([torch.stack([r[i] - r[j] for j in range(n)])
                                 for i in range(n)])
    distances = torch.tensor([[float(torch.sqrt((displacements[i, j] ** 2).sum()))
                               for j in range(n)] for i in range(n)], dtype=torch.float64)
    return displacements, distances


@exercise_check
def pairwise_distances(positions, displacements, distances):
    """Exercise 1: displacements[i, j] = r_i - r_j and the distance matrix, by broadcasting."""
    true_displacements, true_distances = _true_pairwise(positions)
    expect_close("displacements", displacements, true_displacements, rtol=1e-5, atol=1e-6,
                 hint="Subtract a (N, 1, 3) view of positions and a (1, N, 3) view.")
    got = to_tensor("distances", distances)
    expect_shape("distances", got, true_distances.shape)
    if (torch.allclose(got, true_distances**2, rtol=1e-5, atol=1e-6)
            and not torch.allclose(got, true_distances, rtol=1e-5, atol=1e-6)):
        raise CheckFailed("distances", "holds squared distances.",
                          "A distance is the square root of the summed squared components.")
    expect_close("distances", got, true_distances, rtol=1e-5, atol=1e-6,
                 hint="Take the length of each displacement vector along the last axis.")
    passed("displacements and distances", None,
           f"shapes {tuple(true_displacements.shape)} and {tuple(true_distances.shape)}, "
           "r_i - r_j and its length for every pair")


@exercise_check
def seed_all(seed_all):
    """Exercise 2.1: one seed for Python's, NumPy's and torch's generators."""
    def draws():
        return random.random(), float(np.random.rand()), float(torch.rand(()))

    call("seed_all", seed_all, 7)
    first = draws()
    call("seed_all", seed_all, 7)
    again = draws()
    call("seed_all", seed_all, 8)
    other = draws()
    for index, generator in enumerate(["Python's random", "NumPy's", "torch's"]):
        expect(first[index] == again[index], "seed_all",
               f"does not seed {generator} generator: its numbers differ after seeding twice "
               "with the same seed.", "Each library keeps its own generator: seed all three.")
        expect(first[index] != other[index], "seed_all",
               f"gives {generator} generator the same numbers for seeds 7 and 8.",
               "Pass the seed on instead of a fixed number.")
    passed("seed_all", None, "the same seed repeats all three generators, another changes them")


@exercise_check
def choose_profile(choose_profile):
    """Exercise 2.2: DLPS_PROFILE, else 'full' with CUDA and 'laptop' without."""
    cases = [(" Smoke ", False, "smoke"), ("laptop", True, "laptop"), ("FULL", False, "full"),
             (None, False, "laptop"), (None, True, "full"), ("", True, "full")]
    for value, cuda, wanted in cases:
        environment = {key: val for key, val in os.environ.items() if key != "DLPS_PROFILE"}
        if value is not None:
            environment["DLPS_PROFILE"] = value
        with mock.patch.dict(os.environ, environment, clear=True), \
                mock.patch.object(torch.cuda, "is_available", return_value=cuda):
            chosen = call("choose_profile", choose_profile)
        situation = (f"DLPS_PROFILE={value!r}" if value else "DLPS_PROFILE is not set") + (
            " on a computer with CUDA" if cuda else " on a computer without CUDA")
        expect(chosen == wanted, "choose_profile()", f"returns {chosen!r} when {situation}.",
               "Follow the rules of the exercise: ignore case and surrounding spaces, and "
               "decide by the hardware only when the variable is unset or empty.")
    passed("choose_profile()", None, "right for all six settings tried")


@exercise_check
def choose_device(choose_device):
    """Exercise 2.3: CUDA, else MPS, else CPU, as a torch.device; tried with every
    combination of available accelerators (the availability tests are patched)."""
    cases = [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"),
             (False, False, "cpu")]
    for cuda, mps, wanted in cases:
        with mock.patch.object(torch.cuda, "is_available", return_value=cuda), \
                mock.patch.object(torch.backends.mps, "is_available", return_value=mps):
            chosen = call("choose_device", choose_device)
        expect(isinstance(chosen, torch.device), "choose_device()",
               f"returns a {type(chosen).__name__}, not a torch.device.",
               "Return torch.device(\"...\"): code that compares devices with strings goes "
               "wrong, since torch.device(\"cuda:0\") == \"cuda\" is False.")
        situation = {(True, True): "both CUDA and MPS are available",
                     (True, False): "only CUDA is available",
                     (False, True): "only MPS is available",
                     (False, False): "neither CUDA nor MPS is available"}[cuda, mps]
        expect(chosen.type == wanted, "choose_device()",
               f"returns {chosen.type!r} when {situation}.",
               "Test for the accelerators in the order the exercise gives, and fall back "
               "to the CPU.")
    here = call("choose_device", choose_device)
    passed("choose_device()", None, f"right in all four situations; on this computer: {here}")


@exercise_check
def distances_np(positions, distances_np):
    """Exercise 2.4: the distance matrix back on the CPU as a float64 NumPy array."""
    expect(isinstance(distances_np, np.ndarray), "distances_np",
           f"is a {type(distances_np).__name__}, not a NumPy array.",
           "Move the tensor back to the CPU first, then convert it with .numpy().")
    expect(distances_np.dtype == np.float64, "distances_np",
           f"has dtype {distances_np.dtype}, not float64.",
           "Convert on the CPU (MPS has no float64): .astype(np.float64) after .numpy().")
    _, true_distances = _true_pairwise(positions)
    expect_close("distances_np", distances_np, true_distances, rtol=1e-5, atol=1e-6,
                 hint="Compute the same distance matrix as in Exercise 1.")
    passed("distances_np", None, "a float64 NumPy array with the right distances")


@exercise_check
def seconds_per_call(seconds_per_call):
    """Exercise 3: timed with a probe that sleeps a known time and counts its calls."""
    delay, repeats = 0.005, 8
    calls = []

    def probe():
        calls.append(time.perf_counter())
        time.sleep(delay)

    result = call("seconds_per_call", seconds_per_call, probe, torch.device("cpu"), repeats)
    seconds = to_tensor("seconds_per_call(...)", result)
    expect(seconds.numel() == 1, "seconds_per_call(...)",
           f"returns {seconds.numel()} numbers instead of one.")
    seconds = float(seconds)
    expect(len(calls) >= repeats, "seconds_per_call",
           f"called fn {len(calls)} times for repeats={repeats}.",
           "Call fn once per repetition inside the timed loop.")
    expect(len(calls) > repeats, "seconds_per_call",
           "times the very first call too: there is no untimed warm-up call.",
           "Call fn once before starting the clock; the first call pays for memory "
           "allocation and kernel selection.")
    expect(seconds < 0.8 * repeats * delay, "seconds_per_call",
           "returns about the total time of all the timed calls, not the time of one.",
           "Divide by the number of timed calls.")
    expect(0.8 * delay <= seconds <= 4 * delay, "seconds_per_call",
           "returned a time that cannot be the duration of one call of fn.",
           "Read time.perf_counter() just before and just after the timed loop.")
    passed("seconds_per_call", None,
           f"measured {seconds * 1e3:.1f} ms for a probe that sleeps {delay * 1e3:.0f} ms "
           "per call, with a warm-up call")


def _autograd_gradient(h) -> torch.Tensor:
    x = torch.tensor(_POINT[0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor(_POINT[1], dtype=torch.float64, requires_grad=True)
    call("h", h, x, y).backward()
    return torch.stack([x.grad, y.grad])


@exercise_check
def grad_autograd(h, grad_autograd):
    """Exercise 4.1: the gradient of h at (0.5, 2) from autograd."""
    expect_close("grad_autograd", grad_autograd, _autograd_gradient(h), rtol=1e-5,
                 labels=_GRAD_LABELS,
                 hint="Make fresh x and y with requires_grad=True, call backward() once "
                      "(a second call adds to .grad), then stack x.grad and y.grad.")
    passed("grad_autograd", grad_autograd)


@exercise_check
def grad_analytic(h, grad_analytic):
    """Exercise 4.2: the derivatives worked out by hand and evaluated at (0.5, 2)."""
    expect_close("grad_analytic", grad_analytic, _autograd_gradient(h), rtol=1e-6,
                 labels=_GRAD_LABELS,
                 hint="Differentiate the two terms of h separately (product rule for the "
                      "first, quotient rule for the second) and evaluate at x = 0.5, y = 2.")
    passed("grad_analytic", grad_analytic)


@exercise_check
def grad_fd(h, grad_fd):
    """Exercise 4.3: central finite differences in float64."""
    dtype = getattr(grad_fd, "dtype", None)
    expect(dtype is None or dtype in (torch.float64, np.float64), "grad_fd",
           f"is {dtype}, not float64.",
           "Do the whole computation in float64: the difference of two nearly equal values "
           "divided by a tiny step keeps almost no correct digits in float32.")
    expect_close("grad_fd", grad_fd, _autograd_gradient(h), rtol=1e-8, labels=_GRAD_LABELS,
                 hint="Use central differences with a small step such as 1e-6: their error "
                      "shrinks like the step squared, that of a one-sided difference only "
                      "like the step.")
    passed("grad_fd", grad_fd, "agrees with the exact gradient to 1e-8")


def _call_autograd(name, func, *args, hint):
    """call(), with a pointed hint when autograd found nothing recorded."""
    try:
        return call(name, func, *args)
    except CheckFailed as failure:
        if "does not require grad" in failure.problem:
            raise CheckFailed(name, failure.problem, hint) from None
        raise


@exercise_check
def forces_from_energy(forces_from_energy):
    """Exercise 5.1: F = -dE/dr, tried on a harmonic well and on a Morse dimer."""
    well_positions = torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.3, -0.2]], dtype=torch.float64)

    def harmonic(r):
        return (r**2).sum()

    needs_leaf = ("autograd can only differentiate with respect to a tensor that records: "
                  "make one from positions with requires_grad set.")
    got = _call_autograd("forces_from_energy", forces_from_energy, harmonic,
                         well_positions.clone(), hint=needs_leaf)
    expect_close("forces in the well E = sum(r**2)", got, -2 * well_positions, rtol=1e-5,
                 atol=1e-8, hint="The force is minus the gradient of the energy with respect "
                                 "to the positions; torch.autograd.grad returns that gradient.")

    def morse_pair(r):
        distance = (r[0] - r[1]).norm()
        return 4.7 * (1 - torch.exp(-1.9 * (distance - 0.74))) ** 2

    pair = torch.tensor([[0.0, 0.0, 0.0], [0.9, 0.2, -0.1]], dtype=torch.float64)
    got = to_tensor("forces", call("forces_from_energy", forces_from_energy, morse_pair,
                                   pair.clone()))
    expect(torch.allclose(got.sum(dim=0), torch.zeros(3, dtype=got.dtype), atol=1e-6),
           "forces on a Morse dimer", "do not add up to zero (Newton's third law).")
    probe = pair.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(morse_pair(probe), probe)
    expect_close("forces on a Morse dimer", got, -gradient, rtol=1e-5, atol=1e-8)
    passed("forces_from_energy", None, "minus the gradient, for a harmonic well and a dimer")


@exercise_check
def second_derivative(second_derivative):
    """Exercise 5.2: d2E/dr2 by differentiating a gradient again."""
    def quartic(r):
        return r**4

    needs_graph = ("The first derivative must itself be recorded to be differentiated again: "
                   "ask the first torch.autograd.grad call for create_graph=True.")
    got = float(to_tensor("second_derivative(r**4, 2.0)", _call_autograd(
        "second_derivative", second_derivative, quartic, 2.0, hint=needs_graph)))
    expect(not np.isclose(got, 32.0, rtol=1e-4), "second_derivative(r**4, 2.0)",
           "returns the first derivative.", "Differentiate the first derivative once more.")
    expect_close("second_derivative(r**4, 2.0)", got, 48.0, rtol=1e-4,
                 hint="Take the gradient with create_graph=True, then the gradient of that.")
    depth, width, r0 = 4.7, 1.9, 0.74

    def morse(r):
        return depth * (1 - torch.exp(-width * (r - r0))) ** 2

    got = float(to_tensor("second_derivative(morse, r0)",
                          call("second_derivative", second_derivative, morse, r0)))
    expect_close("second_derivative at a Morse minimum", got, 2 * depth * width**2, rtol=1e-4)
    passed("second_derivative", None, "right for r**4 and at the minimum of a Morse potential")


def _reference_fit(x: torch.Tensor, y: torch.Tensor, lr: float, num_steps: int):
    """Gradient descent on the MSE of w x + b with the gradient written out (float64)."""
    w = b = 0.0
    losses = []
    for _ in range(num_steps):
        residual = w * x + b - y
        losses.append(float((residual**2).mean()))
        w, b = w - lr * float(2 * (residual * x).mean()), b - lr * float(2 * residual.mean())
    return losses, w, b


@exercise_check
def fit_line(fit_line, x_data, y_data):
    """Exercise 6.1: the learner's loop against gradient descent done by the check."""
    x, y = to_tensor("x_data", x_data), to_tensor("y_data", y_data)
    lr, steps = 0.1, 5
    true_losses, true_w, true_b = _reference_fit(x, y, lr, steps)
    shifted, _, _ = _reference_fit(x, y, lr, steps + 1)
    result = call("fit_line", fit_line, lr, steps)
    expect(isinstance(result, tuple) and len(result) == 3, "fit_line",
           f"returns a {type(result).__name__}, not the three values (losses, w, b).")
    losses, w, b = result
    expect(isinstance(losses, list), "losses", f"is a {type(losses).__name__}, not a list.")
    expect(not any(isinstance(value, torch.Tensor) for value in losses), "losses",
           "holds tensors, not Python floats; each of them keeps its whole computational "
           "graph in memory.", "Append loss.item().")
    expect(len(losses) == steps, "losses",
           f"has {len(losses)} entries after {steps} steps; it needs one per step.")
    got = to_tensor("losses", losses)
    right = torch.isclose(got, torch.tensor(true_losses, dtype=torch.float64), rtol=1e-4)
    if not bool(right.all()):
        if torch.allclose(got, torch.tensor(shifted[1:], dtype=torch.float64), rtol=1e-4):
            raise CheckFailed("losses", "are shifted by one step: each is the loss after the "
                              "update instead of before it.")
        first_wrong = int((~right).nonzero()[0])
        expect(first_wrong > 0, "losses", "the very first loss (at w = b = 0) is wrong.",
               "The loss is the mean of the squared residuals w x + b - y.")
        raise CheckFailed("losses", f"the first {first_wrong} losses are right, then they "
                          "go wrong.",
                          "Gradients accumulate in .grad: reset them after every update. "
                          "Update w and b in place under torch.no_grad().")
    expect_close("w", w, true_w, rtol=1e-4, hint="Return the final w as a float.")
    expect_close("b", b, true_b, rtol=1e-4, hint="Return the final b as a float.")
    passed("fit_line", None, f"its first {steps} losses and its final w and b match gradient "
           "descent done by the check")


@exercise_check
def lr_max(x_data, hessian, lr_max):
    """Exercise 6.2: the Hessian of the MSE in (w, b) and 2 / its largest eigenvalue."""
    x = to_tensor("x_data", x_data)
    mean_x, mean_x2 = float(x.mean()), float((x**2).mean())
    true_hessian = 2 * torch.tensor([[mean_x2, mean_x], [mean_x, 1.0]], dtype=torch.float64)
    expect_close("hessian", hessian, true_hessian, rtol=1e-6, atol=1e-6,
                 hint="Take the second derivatives of the loss with respect to w and b, "
                      "or let torch.autograd.functional.hessian do it for a function of "
                      "the vector (w, b).")
    got = to_tensor("lr_max", lr_max)
    expect(got.numel() == 1, "lr_max", f"holds {got.numel()} numbers instead of one.")
    got = float(got)
    truth = 2 / float(torch.linalg.eigvalsh(true_hessian).max())
    hint = ("A step of size lr multiplies the distance to the minimum along an eigenvector "
            "of the Hessian with eigenvalue k by (1 - lr k). Which eigenvalue limits lr, "
            "and at which lr does that factor reach -1?")
    expect(got <= truth * (1 + 1e-4), "lr_max",
           "is too large: at learning rates a little below it, gradient descent still "
           "diverges.", hint)
    expect(got >= truth * (1 - 1e-4), "lr_max",
           "is too small: gradient descent still converges at learning rates somewhat "
           "above it.", hint)
    passed("hessian and lr_max", got)


def _bce_gradient(w, b, features, target) -> torch.Tensor:
    w64 = to_tensor("w", w).requires_grad_(True)
    b64 = to_tensor("b", b)
    x, t = to_tensor("features", features), to_tensor("target", target)
    p = torch.sigmoid(w64 @ x + b64)
    loss = -(t * torch.log(p) + (1 - t) * torch.log(1 - p))
    loss.backward()
    return w64.grad


@exercise_check
def logistic_gradient(w, b, features, target, grad_w, grad_w_by_hand):
    """Exercise 7.1: the gradient of the logistic loss, from autograd and by hand."""
    truth = _bce_gradient(w, b, features, target)
    expect_close("grad_w", grad_w, truth, rtol=1e-5, atol=1e-7,
                 hint="Call backward() on the loss of this w and b once, then read w.grad.")
    expect(grad_w_by_hand is not grad_w, "grad_w_by_hand",
           "is the autograd result itself.", "Compute it from p, t and x without autograd.")
    expect_close("grad_w_by_hand", grad_w_by_hand, truth, rtol=1e-5, atol=1e-7,
                 hint="Chain rule: dL/dp times dp/dz times dz/dw, where z = w.x + b; "
                      "the first two factors simplify to something short.")
    passed("grad_w and grad_w_by_hand", grad_w_by_hand)


@exercise_check
def two_layer_gradients(X, Y, W1, b1, W2, b2, grads_by_hand):
    """Exercise 7.2: backpropagation by hand through tanh and a mean squared error."""
    expect(isinstance(grads_by_hand, dict), "grads_by_hand",
           f"is a {type(grads_by_hand).__name__}, not a dict.")
    names = ["W2", "b2", "W1", "b1"]  # the order in which backpropagation meets them
    missing = [name for name in names if name not in grads_by_hand]
    expect(not missing, "grads_by_hand", f"has no entry {', '.join(map(repr, missing))}.")
    params = {name: to_tensor(name, value).requires_grad_(True)
              for name, value in zip(["W1", "b1", "W2", "b2"], [W1, b1, W2, b2])}
    x, y = to_tensor("X", X), to_tensor("Y", Y)
    hidden = torch.tanh(x @ params["W1"].T + params["b1"])
    loss = ((hidden @ params["W2"].T + params["b2"] - y) ** 2).mean()
    loss.backward()
    got_all = torch.cat([to_tensor(name, grads_by_hand[name]).flatten() for name in names])
    true_all = torch.cat([params[name].grad.flatten() for name in names])
    ratio = got_all / true_all
    if (not torch.allclose(got_all, true_all, rtol=1e-4, atol=1e-6)
            and torch.allclose(ratio, ratio.mean().expand_as(ratio), rtol=1e-3)):
        raise CheckFailed("grads_by_hand", "every gradient is off by the same constant factor.",
                          "Start from dL/dY_hat of the mean squared error: how many "
                          "samples does the mean run over?")
    problems, wrong = [], []
    for name in names:
        try:
            expect_close(name, grads_by_hand[name], params[name].grad, rtol=1e-4, atol=1e-6)
        except CheckFailed as failure:
            wrong.append(name)
            problems.append(f"{name} {failure.problem}")
    if problems:
        right = [name for name in names if name not in wrong]
        summary = f"{join_names(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong"
        if right:
            summary += f" ({join_names(right)} {'is' if len(right) == 1 else 'are'} right)"
        summary += ": " + " ".join(problems)
        raise CheckFailed("grads_by_hand", summary,
                          "Work backwards one step at a time: dL/dY_hat, then the second "
                          "layer, then through tanh (tanh'(z) = 1 - tanh(z)**2), then the "
                          "first layer.")
    passed("grads_by_hand", None, "W1, b1, W2 and b2 all equal autograd's gradients")
