"""Feedback for the exercise pages: check cells that say "Correct" or what is wrong.

After every gap of an exercise page comes a visible *check cell*, one call such as
``check.pairwise(positions, displacements, distances)``.  ``check`` is the module with that
lesson's checks, imported once in the page's setup cell::

    from dlps import checks_lesson1 as check

A check function receives the learner's answer and the inputs it was computed from.  It works
out what the answer should be *inside the function* -- from those inputs or from the data, never
from a stored number -- and then either prints one line that starts with "Correct" and shows the
value it checked, or raises ``CheckFailed``.  The message of ``CheckFailed`` says what is wrong
(type, shape, sign, order, a constant factor, not trained enough, ...) and gives a hint; it never
contains the expected value, so running a check cannot give the answer away.

This module holds what every lesson's checks share: ``CheckFailed``, the ``exercise_check``
decorator (a check never disturbs the notebook's random numbers), ``passed`` and comparisons
that diagnose the common mistakes.  The checks of Lesson N live in ``dlps/checks_lessonN.py``;
CONTRIBUTING.md, section "Exercise checks", says how to write one.
"""

from __future__ import annotations

import contextlib
import functools
import random
import textwrap

import numpy as np
import torch

__all__ = [
    "CheckFailed",
    "call",
    "describe",
    "exercise_check",
    "expect",
    "expect_close",
    "expect_shape",
    "join_names",
    "passed",
    "to_tensor",
]

_WIDTH = 88  # wrap messages to the width of a notebook's output area
_RED, _GREEN, _BOLD, _RESET = "\033[31m", "\033[32m", "\033[1m", "\033[0m"


class CheckFailed(AssertionError):
    """An exercise answer is not right yet.

    ``name`` is what was checked (usually the variable), ``problem`` what is wrong with it and
    ``hint`` where to look.  In Jupyter and Colab (IPython) the error shows as these lines only,
    without a traceback through the check's code.
    """

    def __init__(self, name: str, problem: str, hint: str | None = None):
        self.name, self.problem, self.hint = name, problem, hint
        super().__init__(f"{name}: {problem}" + (f" Hint: {hint}" if hint else ""))

    def lines(self) -> list[str]:
        out = [f"Not yet: {self.name}"]
        out += textwrap.wrap(self.problem, _WIDTH, initial_indent="  ",
                             subsequent_indent="  ")
        if self.hint:
            out += textwrap.wrap(f"Hint: {self.hint}", _WIDTH, initial_indent="  ",
                                 subsequent_indent="        ")
        return out

    def _render_traceback_(self) -> list[str]:
        """What IPython prints instead of a traceback (its documented hook)."""
        first, *rest = self.lines()
        return [f"{_BOLD}{_RED}✗ {first}{_RESET}", *rest]


def passed(name: str, value=None, detail: str = "") -> None:
    """Print the success line: "✓ Correct: name = value (detail)"."""
    shown = "" if value is None else f" = {describe(value)}"
    detail = f"  ({detail})" if detail else ""
    print(f"{_BOLD}{_GREEN}✓ Correct{_RESET}: {name}{shown}{detail}")


def describe(value, digits: int = 5) -> str:
    """A short printable form of a learner's value (small arrays in full, large ones by shape)."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        if array.size <= 8:
            return np.array2string(np.asarray(array, dtype=float), precision=digits - 1,
                                   separator=", ", suppress_small=False).replace("\n", "")
        kind = "tensor" if isinstance(value, torch.Tensor) else "array"
        return f"{kind} of shape {tuple(array.shape)}, dtype {array.dtype}"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return repr(value) if len(repr(value)) <= 60 else f"{type(value).__name__}(...)"


@contextlib.contextmanager
def _random_state_kept():
    """Run a block without changing the random streams of Python, NumPy and torch."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng():
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


def exercise_check(func):
    """Decorator for check functions: they may draw random numbers (to build a probe network,
    say) without changing what the learner's next cells compute."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _random_state_kept():
            return func(*args, **kwargs)

    return wrapper


def expect(condition, name: str, problem: str, hint: str | None = None) -> None:
    """Raise ``CheckFailed(name, problem, hint)`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(name, problem, hint)


def call(name: str, func, *args, **kwargs):
    """Call a function the learner wrote; an exception inside it becomes a readable failure."""
    expect(callable(func), name, f"is a {type(func).__name__}, not a function.",
           "Run the cell that defines it (with def) first.")
    try:
        return func(*args, **kwargs)
    except CheckFailed:
        raise
    except NotImplementedError:
        raise CheckFailed(name, "still raises NotImplementedError.",
                          "Replace the raise line in the gap with your code.") from None
    except Exception as err:  # the learner's code failed: say how, keep it short
        message = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise CheckFailed(name, f"calling it raised {type(err).__name__}: {message[:200]}",
                          "Run your function on its own to see the full error.") from None


def to_tensor(name: str, value, *, dtype=torch.float64) -> torch.Tensor:
    """The learner's numbers as a detached CPU tensor of ``dtype`` (for comparing).

    Accepts tensors, NumPy arrays, Python numbers and (nested) lists of them; anything else is
    a failure that names the type it got.
    """
    if value is None:
        raise CheckFailed(name, "is None.",
                          "Does a function return nothing, or is a .grad not filled in yet?")
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", dtype)
    if isinstance(value, (str, bytes, dict, set)):
        raise CheckFailed(name, f"is a {type(value).__name__}, not numbers.")
    try:
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], torch.Tensor):
            return torch.stack([torch.as_tensor(v).detach().to("cpu", dtype) for v in value])
        return torch.as_tensor(np.asarray(value, dtype=np.float64), dtype=dtype)
    except (TypeError, ValueError, RuntimeError):
        raise CheckFailed(name, f"is a {type(value).__name__} that cannot be read as numbers."
                          ) from None


def expect_shape(name: str, got: torch.Tensor, shape, *, reveal: bool = True,
                 hint: str | None = None) -> None:
    """Fail unless ``got`` has ``shape``; with ``reveal=False`` the message keeps the expected
    shape to itself (for exercises where the shape is the answer)."""
    shape = tuple(shape)
    if tuple(got.shape) == shape:
        return
    wanted = f", but it should have shape {shape}" if reveal else ", which is not right"
    if got.numel() == int(np.prod(shape)):
        hint = hint or "The numbers are there but arranged differently: check reshape/transpose."
    raise CheckFailed(name, f"has shape {tuple(got.shape)}{wanted}.", hint)


def _close(a, b, rtol, atol):
    return torch.isclose(a, b, rtol=rtol, atol=atol)


def expect_close(name: str, got, expected, *, rtol: float = 1e-5, atol: float = 0.0,
                 labels=None, hint: str | None = None, reveal_shape: bool = True) -> None:
    """Fail unless ``got`` equals ``expected`` within ``rtol``/``atol``, saying what is off.

    The diagnosis, in this order: not numbers, shape, NaN/infinity, the opposite sign, the
    transpose, the right numbers in the wrong order, a constant factor, which labelled entries
    are wrong; otherwise the size of the relative difference.  ``expected`` never appears in
    the message.  ``labels`` names the entries of a small vector (e.g. ["dh/dx", "dh/dy"]).
    """
    got = to_tensor(name, got)
    expected = to_tensor("expected", expected)
    expect_shape(name, got, expected.shape, reveal=reveal_shape)
    expect(bool(torch.isfinite(got).all()), name, "contains NaN or infinity.",
           hint or "Look for a division by zero, a log of zero or a value that overflowed.")
    ok = _close(got, expected, rtol, atol)
    if bool(ok.all()):
        return
    scale = float(expected.abs().max())
    if scale > 0 and bool(_close(got, -expected, rtol, atol).all()):
        raise CheckFailed(name, "has the opposite sign of the right answer.", hint)
    if (got.dim() == 2 and got.shape[0] == got.shape[1] and got.shape[0] > 1
            and bool(_close(got, expected.T, rtol, atol).all())):
        raise CheckFailed(name, "is the transpose of the right answer.", hint)
    if got.numel() > 1 and bool(_close(got.flatten().sort().values,
                                       expected.flatten().sort().values, rtol, atol).all()):
        raise CheckFailed(name, "holds the right numbers, but in the wrong order.", hint)
    nonzero = expected.abs() > max(atol, 1e-12 * scale)  # entries that are not ~zero
    if got.numel() > 1 and bool(nonzero.sum() > 1):
        ratio = got[nonzero] / expected[nonzero]
        constant = bool(_close(ratio, ratio.mean().expand_as(ratio), 10 * rtol, 0).all())
        zeros_agree = bool(_close(got[~nonzero], expected[~nonzero], rtol, atol).all())
        one = torch.ones((), dtype=ratio.dtype)
        if constant and zeros_agree and not bool(_close(ratio.mean(), one, rtol, 0)):
            raise CheckFailed(name, "is off by a constant factor: every entry is the right "
                              "value times the same number.", hint)
    difference = float(((got - expected).abs() / expected.abs().clamp_min(atol or 1e-300)).max())
    size = (f"by up to {_percent(difference)}" if difference < 1 else "by more than 100 %") \
        + f" (allowed: {_percent(rtol)})"
    if labels is not None and got.numel() == len(labels) and got.numel() > 1:
        flat_ok, flat_got, flat_exp = ok.flatten(), got.flatten(), expected.flatten()
        wrong = [label for label, good in zip(labels, flat_ok) if not good]
        right = [label for label, good in zip(labels, flat_ok) if good]
        flipped = [label for label, g, e, good in zip(labels, flat_got, flat_exp, flat_ok)
                   if not good and bool(_close(g, -e, rtol, atol))]
        problem = f"{join_names(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong"
        if right:
            problem += f" ({join_names(right)} {'is' if len(right) == 1 else 'are'} right)"
        problem += "."
        if flipped:
            verb = "has" if len(flipped) == 1 else "have"
            problem += f" {join_names(flipped)} {verb} the wrong sign."
        else:
            problem += f" They differ from the right values {size}."
        raise CheckFailed(name, problem, hint)
    raise CheckFailed(name, f"differs from the right value {size}.", hint)


def join_names(words) -> str:
    """"a", "a and b", "a, b and c"."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.2g} %"
