"""dlps: the small helper package of *Deep Learning for the Physical Sciences*.

Every helper here is first written out by hand in a lesson; the docstring of each one
names that lesson.  Lessons import it as ``import dlps``.

* ``dlps.get_device()``      -- CUDA -> MPS -> CPU             (Lesson 1)
* ``dlps.seed_everything()`` -- seeds Python, NumPy and torch   (Lesson 1)
* ``dlps.get_profile()``     -- 'smoke' / 'laptop' / 'full'    (Lesson 1)
* ``dlps.by_profile(...)``   -- pick a size for the profile     (Lesson 1)
* ``dlps.record_run(...)``   -- provenance for the status page  (Lesson 1)
* ``dlps.data``              -- course data directory and dataset registry
"""

from __future__ import annotations

import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from . import data

__all__ = [
    "data",
    "PROFILES",
    "PROFILE_ENV",
    "by_profile",
    "get_device",
    "get_profile",
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

    Taught in Lesson 1 ("Choosing a device"), where the same if/elif is written out first.
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
    'full' on a CUDA machine and 'laptop' otherwise.  Introduced in Lesson 1 ("Profiles").
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
    one visible line of a notebook.  Introduced in Lesson 1 ("Profiles").
    """
    choice = profile or get_profile()
    return {"smoke": smoke, "laptop": laptop, "full": full}[choice]


def seed_everything(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy and torch (CPU, CUDA and MPS) with one number.

    Taught in Lesson 1 ("Reproducibility").  Runs on a GPU are still not bit-identical:
    many CUDA kernels add numbers in a nondeterministic order.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA and MPS device


#: Environment variable naming the folder where record_run() writes its JSON files.
RUN_LOG_ENV = "DLPS_RUN_LOG"
_run_started = None  # perf_counter() value when show_setup() ran in this process


def show_setup(seed: int = 0) -> tuple[str, torch.device]:
    """Seed everything, then print and return the profile and device of this run.

    Every lesson calls it in its first code cell; Lesson 1 shows the three steps it combines.
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


def record_run(notebook: str, metrics: dict) -> Path | None:
    """Record how this notebook run went, for the book's status page and per-lesson badge.

    Writes ``<notebook>.json`` (e.g. ``lessons/01_tensors_autograd.json``) into
    ``$DLPS_RUN_LOG`` (the build sets it; default ``_build/runs`` of a course checkout) with the
    profile, device, torch version, seconds since ``show_setup``, peak memory and the lesson's
    headline ``metrics``.  Introduced at the end of Lesson 1 ("Where the numbers come from").
    """
    folder = os.environ.get(RUN_LOG_ENV)
    if not folder:
        root = Path(__file__).resolve().parent.parent
        if not (root / "_config.yml").is_file():
            return None  # not in a course checkout (e.g. Colab): nothing to publish
        folder = root / "_build" / "runs"
    device = get_device(verbose=False)
    record = {
        "notebook": notebook,
        "profile": get_profile(),
        "device": device.type,
        "device_name": (torch.cuda.get_device_name(0) if device.type == "cuda"
                        else f"{platform.processor() or platform.machine()}, "
                             f"{torch.get_num_threads()} threads"),
        "torch": torch.__version__,
        "seconds": None if _run_started is None else round(time.perf_counter() - _run_started, 1),
        "peak_memory_gb": round(_peak_memory_gb(), 2),
        "peak_gpu_memory_gb": (round(torch.cuda.max_memory_allocated() / 1e9, 2)
                               if device.type == "cuda" else None),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "metrics": {name: float(value) for name, value in metrics.items()},
    }
    path = Path(folder) / f"{notebook}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1))
    return path
