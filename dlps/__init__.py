"""dlps: the small helper package of *Deep Learning for the Physical Sciences*.

Every helper here is first written out by hand in a lesson; the docstring of each one
names that lesson.  Lessons import it as ``import dlps``.

* ``dlps.get_device()``      -- CUDA -> MPS -> CPU             (Lesson 1)
* ``dlps.seed_everything()`` -- seeds Python, NumPy and torch   (Lesson 1)
* ``dlps.get_profile()``     -- 'smoke' / 'laptop' / 'full'    (Lesson 1)
* ``dlps.by_profile(...)``   -- pick a size for the profile     (Lesson 1)
* ``dlps.data``              -- course data directory and dataset registry
"""

from __future__ import annotations

import os
import random

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


def show_setup(seed: int = 0) -> tuple[str, torch.device]:
    """Seed everything, then print and return the profile and device of this run.

    Every lesson calls it in its first code cell; Lesson 1 shows the three steps it combines.
    """
    seed_everything(seed)
    profile = get_profile()
    print(f"Profile: {profile}   (set {PROFILE_ENV}=smoke|laptop|full to change it)")
    print(f"torch {torch.__version__}, seed {seed}")
    device = get_device()
    return profile, device
