"""dlps: the small helper package of *Deep Learning for the Physical Sciences*.

Every helper here is first written out by hand in a lesson; the docstring of each one names
that lesson and section in one fixed form, ``Taught in Lesson N, section "Heading".``, which a
test checks against the lessons' real headings.  Lessons import it as ``import dlps``.

* ``dlps.get_device()``      -- CUDA -> MPS -> CPU                     (Lesson 1)
* ``dlps.seed_everything()`` -- seeds Python, NumPy and torch           (Lesson 1)
* ``dlps.get_profile()``     -- 'smoke' / 'laptop' / 'full'            (Lesson 1)
* ``dlps.by_profile(...)``   -- pick a size for the profile             (Lesson 1)
* ``dlps.glue(...)``         -- hand a number to the book's text        (Lesson 1)
* ``dlps.record_run(...)``   -- provenance for the status page          (Lesson 1)
* ``dlps.count_parameters``, ``dlps.autocast``, ``dlps.predict``, ``dlps.evaluate``,
  ``dlps.fit``
                             -- training plumbing                      (Lessons 2 and 4)
* ``dlps.data``              -- course data directory and dataset registry
* ``dlps.ising``             -- 2D Ising Monte Carlo and exact results (Lesson 7)
"""

from __future__ import annotations

import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from . import data, runlog
from .training import (
    EMULATE_AMP_ENV,
    amp_dtype,
    autocast,
    count_parameters,
    evaluate,
    fit,
    grad_scaler,
    predict,
)

__all__ = [
    "data",
    "BOOK_BUILD_ENV",
    "EMULATE_AMP_ENV",
    "PROFILES",
    "PROFILE_ENV",
    "amp_dtype",
    "autocast",
    "by_profile",
    "count_parameters",
    "evaluate",
    "fit",
    "get_device",
    "get_profile",
    "glue",
    "grad_scaler",
    "predict",
    "record_run",
    "seed_everything",
    "show_setup",
]

#: Environment variable that selects the hardware profile.
PROFILE_ENV = "DLPS_PROFILE"
#: The three hardware profiles, smallest first.
PROFILES = ("smoke", "laptop", "full")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def get_device(verbose: bool = True) -> torch.device:
    """Return the best available device: CUDA, then Apple's MPS, then the CPU.

    Taught in Lesson 1, section "Choosing a device", where the same if/elif is written out.
    MPS has no float64, so keep model tensors float32 everywhere in the course.
    """
    if torch.cuda.is_available():
        device = torch.device("cuda")
        detail = torch.cuda.get_device_name(0)
    elif _mps_available():
        device = torch.device("mps")
        detail = "Apple GPU via Metal Performance Shaders"
    else:
        device = torch.device("cpu")
        detail = f"{torch.get_num_threads()} CPU threads"
    if verbose:
        print(f"Using device: {device} ({detail})")
    return device


def get_profile() -> str:
    """Return the hardware profile: 'smoke', 'laptop' or 'full'.

    Read from the environment variable ``DLPS_PROFILE``; when it is unset the default is
    'full' on a CUDA machine and 'laptop' otherwise.  In a notebook, ``%env DLPS_PROFILE=laptop``
    before the setup cell chooses one (the variable is read at every call).
    Taught in Lesson 1, section "Choosing a profile".
    """
    value = os.environ.get(PROFILE_ENV, "").strip().lower()
    if not value:
        return "full" if torch.cuda.is_available() else "laptop"
    if value not in PROFILES:
        raise ValueError(
            f"{PROFILE_ENV}={os.environ[PROFILE_ENV]!r} is not a profile; "
            f"use one of {', '.join(PROFILES)} (or unset it for the default)."
        )
    return value


def by_profile(*, smoke, laptop, full, profile: str | None = None):
    """Return the value that belongs to the current profile.

    ``num_epochs = dlps.by_profile(smoke=1, laptop=10, full=40)`` keeps all three sizes in
    one visible line of a notebook.  Taught in Lesson 1, section "Choosing a profile".
    """
    choice = profile or get_profile()
    return {"smoke": smoke, "laptop": laptop, "full": full}[choice]


def seed_everything(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy and torch (CPU, CUDA and MPS) with one number.

    Taught in Lesson 1, section "Seeding the random number generators".  Runs on a GPU are
    still not bit-identical: many CUDA kernels add numbers in a nondeterministic order.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA and MPS device


#: Environment variable naming the folder where record_run() writes its JSON files.
RUN_LOG_ENV = runlog.RUN_LOG_ENV
#: Set while the book is being built (by the book's Sphinx extension and by the test suite,
#: whose notebook runs feed the book): then ``glue`` hands values to MyST-NB.
BOOK_BUILD_ENV = "DLPS_BOOK_BUILD"
_run_started = None  # perf_counter() value when show_setup() ran in this process


def show_setup(seed: int = 0) -> tuple[str, torch.device]:
    """Seed everything, then print and return the profile and device of this run.

    Every lesson calls it in its first code cell.  Taught in Lesson 1, section "Setting up",
    which writes out the three steps it combines.
    It also starts the clock that ``record_run`` reads.
    """
    global _run_started
    _run_started = time.perf_counter()
    seed_everything(seed)
    profile = get_profile()
    print(f"Profile: {profile}   (set {PROFILE_ENV}=smoke|laptop|full to change it)")
    print(f"torch {torch.__version__}, seed {seed}")
    device = get_device()
    return profile, device


def _peak_memory_gb() -> float:
    """Peak resident memory of this process, in GB (the kernel running the notebook)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e9 if sys.platform == "darwin" else peak * 1024 / 1e9  # bytes vs kB


def glue(name: str, value) -> None:
    """Hand a value from this run to the book's text, which quotes it as {glue:text}`name`.

    While the book is built (``$DLPS_BOOK_BUILD`` is set) this is MyST-NB's ``glue`` with
    ``display=False``; everywhere else (Jupyter, Colab) there is no book to fill in, so the value
    is printed instead and the notebook needs no book tools.
    Taught in Lesson 1, section "Where the numbers come from".
    """
    # NumPy 2 scalars show as "np.float64(0.5)", which the book's number formats
    # (e.g. {glue:text}`acc:.3f`) cannot read; hand over the plain Python number instead.
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if os.environ.get(BOOK_BUILD_ENV):
        from myst_nb import glue as myst_glue

        myst_glue(name, value, display=False)
    else:
        print(f"{name} = {value:.4g}" if isinstance(value, float) else f"{name} = {value}")


def machine_name(device) -> str:
    """How run records and the self-check's benchmark name the machine behind ``device``: the GPU's
    name on CUDA, else the processor and torch's thread count (``python -m dlps calibrate``
    matches records and benchmarks by it)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(0)
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def record_run(notebook: str, metrics: dict) -> Path | None:
    """Record how this notebook run went, for the book's status page and per-lesson badge.

    Writes ``<notebook>.json`` (e.g. ``lessons/01_tensors_autograd.json``) into
    ``$DLPS_RUN_LOG`` (the build sets it; default ``_build/runs`` of a course checkout; nothing
    is written outside a checkout, e.g. in Colab) with the keys of ``dlps.runlog.RECORD_KEYS``:
    profile, device, torch version, seconds since ``show_setup``, peak memory (and peak GPU
    memory on CUDA) and the lesson's headline ``metrics``.
    Taught in Lesson 1, section "Where the numbers come from".
    """
    device = get_device(verbose=False)
    return runlog.write_record({
        "notebook": notebook,
        "profile": get_profile(),
        "device": device.type,
        "device_name": machine_name(device),
        "torch": torch.__version__,
        "seconds": None if _run_started is None else round(time.perf_counter() - _run_started, 1),
        "peak_memory_gb": round(_peak_memory_gb(), 2),
        "peak_gpu_memory_gb": (round(torch.cuda.max_memory_allocated() / 1e9, 2)
                               if device.type == "cuda" else None),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "metrics": {name: float(value) for name, value in metrics.items()},
    })
