"""Check that the exact lock resolves to binary wheels on every supported Python and platform.

    python tools/check_wheels.py 3.11 3.12 3.13 3.14        (or: make check-wheels)
        [--requirements FILE ...]

Both pinned files are checked, each on its own: ``requirements.txt`` (what a learner installs
with ``make env``) and ``requirements-dev.txt`` (the authors' tools, which includes the learner
file, so it is resolved together with it as ``make dev-env`` installs it). ``--requirements``,
given once or more, checks only those files.

For each file, each Python version given and each platform in ``PLATFORMS``, pip resolves it
against the package index as if it were installing on that machine, accepting binary wheels
only (``pip install --dry-run --ignore-installed --only-binary=:all: --python-version X
--implementation cp --platform ...``). pip reads only the wheels' metadata: nothing is built,
installed or cached outside pip's own cache. One line per combination is printed; the exit
status is 1 if any combination fails, with pip's reason (typically "No matching distribution"
for a pin without a wheel for that Python or platform).

pip's ``--platform`` and ``--python-version`` choose which wheels fit, but pip still evaluates
dependency markers (``sys_platform == "linux"``, ``python_version < "3.12"``) for the machine it
runs on: torch's CUDA dependencies would then be demanded on macOS. So pip runs here with its
marker environment replaced by the target's (``TARGET_MARKERS``), as it would be on that machine.

A source distribution is never accepted: a learner on that platform would have to compile it,
which is exactly what this check exists to catch before a learner meets it.  The index is PyPI,
what learners install from: pip's configuration files and local wheel folders of this machine
are ignored.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: name -> (what it stands for, pip --platform tags). Linux: the manylinux tags a glibc 2.28
#: system accepts (Debian 10+, Ubuntu 20.04+, RHEL 8+; PyTorch's own wheels need 2.28).
#: macOS: Apple silicon with macOS 14 or newer (pip adds the older macOS and universal2 tags).
PLATFORMS = {
    "linux-x86_64": ("Linux x86_64, glibc >= 2.28",
                     [f"manylinux_2_{minor}_x86_64" for minor in range(28, 16, -1)]
                     + ["manylinux2014_x86_64"]),
    "macos-arm64": ("macOS >= 14 on Apple silicon", ["macosx_14_0_arm64"]),
}

#: PEP 508 marker values on each platform (the Python version is filled in per check).
TARGET_MARKERS = {
    "linux-x86_64": {"os_name": "posix", "sys_platform": "linux", "platform_system": "Linux",
                     "platform_machine": "x86_64"},
    "macos-arm64": {"os_name": "posix", "sys_platform": "darwin", "platform_system": "Darwin",
                    "platform_machine": "arm64"},
}

INDEX = "https://pypi.org/simple"

#: Runs pip with the marker environment given as JSON in argv[1] (pip vendors `packaging`).
PIP_WITH_MARKERS = """
import json, sys
from pip._vendor.packaging import markers
target = json.loads(sys.argv.pop(1))
markers._cached_default_environment = lambda: target
markers.default_environment = lambda: dict(target)
from pip._internal.cli.main import main
sys.exit(main(sys.argv[1:]))
"""

#: Packages whose versions are printed for each combination (the ones a Python bump breaks).
SHOWN = ("numpy", "scipy", "torch", "pandas", "numba")


@functools.cache
def pip_has_fast_deps() -> bool:
    """pip's fast-deps reads a wheel's metadata with HTTP range requests instead of downloading
    the whole wheel (torch's is 0.5 GB for each Python and platform). It is experimental, so it
    is used only where this pip accepts it."""
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps",
                             "--no-index", "--quiet", "--use-feature=fast-deps", "pip"],
                            capture_output=True, text=True)
    return "invalid choice" not in result.stderr


def pip_env() -> dict[str, str]:
    """This environment without pip settings that add indexes or local wheel folders."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL",
                          "PIP_NO_INDEX")}
    env["PIP_CONFIG_FILE"] = os.devnull           # no pip.conf: PyPI as a learner has it
    return env


def marker_environment(python: str, platform: str) -> dict[str, str]:
    """The values pip would see for PEP 508 markers on that Python and platform."""
    return {**TARGET_MARKERS[platform], "python_version": python,
            "python_full_version": f"{python}.0", "implementation_name": "cpython",
            "implementation_version": f"{python}.0",
            "platform_python_implementation": "CPython",
            "platform_release": "", "platform_version": ""}


def pip_command(python: str, platform: str, requirements: Path, report: Path) -> list[str]:
    markers = json.dumps(marker_environment(python, platform))
    command = [sys.executable, "-c", PIP_WITH_MARKERS, markers,
               "install", "--dry-run", "--ignore-installed",
               "--only-binary=:all:", "--quiet", "--no-color", "--progress-bar=off",
               "--python-version", python, "--implementation", "cp",
               "--index-url", INDEX, "--report", str(report), "-r", str(requirements)]
    if pip_has_fast_deps():
        command.append("--use-feature=fast-deps")
    for tag in PLATFORMS[platform][1]:
        command += ["--platform", tag]
    return command


#: The pinned files a plain `make check-wheels` checks: the learners' and the authors'.
REQUIREMENTS = [ROOT / "requirements.txt", ROOT / "requirements-dev.txt"]


def check(python: str, platform: str, requirements: Path, workdir: Path) -> dict:
    """Resolve one pinned file for one Python and platform; returns what pip chose or why it
    failed."""
    report = workdir / f"{requirements.stem}-{python}-{platform}.json"
    start = time.perf_counter()
    result = subprocess.run(pip_command(python, platform, requirements, report),
                            capture_output=True, text=True, env=pip_env())
    outcome = {"requirements": requirements.name, "python": python, "platform": platform,
               "seconds": round(time.perf_counter() - start, 1), "ok": result.returncode == 0}
    if not outcome["ok"]:
        # pip's own explanation, without its warnings
        lines = [line for line in result.stderr.splitlines()
                 if "is ignored" not in line and not line.startswith("WARNING:")]
        outcome["error"] = "\n".join(lines[-15:])
        return outcome
    installed = json.loads(report.read_text())["install"]
    not_wheels = [item["metadata"]["name"] for item in installed
                  if not item["download_info"]["url"].endswith(".whl")]
    if not_wheels:       # cannot happen with --only-binary; kept so the check cannot lie
        outcome.update(ok=False, error=f"not binary wheels: {', '.join(not_wheels)}")
    versions = {item["metadata"]["name"].lower(): item["metadata"]["version"]
                for item in installed}
    outcome["wheels"] = len(installed)
    outcome["versions"] = {name: versions[name] for name in SHOWN if name in versions}
    return outcome


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pythons", nargs="+", help="Python versions, e.g. 3.11 3.12")
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORMS),
                        help="only these platforms (default: all)")
    parser.add_argument("--requirements", type=Path, action="append",
                        help="a pinned file to check (repeatable; default: "
                             + " and ".join(path.name for path in REQUIREMENTS) + ")")
    parser.add_argument("--jobs", type=int, default=8,
                        help="resolutions run at once (they wait on the network, not the CPU)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    platforms = args.platform or list(PLATFORMS)
    files = args.requirements or REQUIREMENTS
    combos = [(python, platform, path) for path in files for python in args.pythons
              for platform in platforms]

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(check, python, platform, path, Path(tmp))
                   for python, platform, path in combos]
        results = [future.result() for future in futures]

    print(f"Binary wheels for {' and '.join(path.name for path in files)} "
          f"({time.perf_counter() - start:.0f} s wall):")
    for r in results:
        if len(files) > 1 and r is next(x for x in results
                                        if x["requirements"] == r["requirements"]):
            print(f" {r['requirements']}:")
        where = PLATFORMS[r["platform"]][0]
        if r["ok"]:
            shown = " ".join(f"{name} {version}" for name, version in r["versions"].items())
            print(f"  ok      Python {r['python']:5} {where:30} {r['wheels']:4} wheels  "
                  f"{shown}  ({r['seconds']:.0f} s)")
        else:
            print(f"  FAILED  Python {r['python']:5} {where:30}\n"
                  + "\n".join("          " + line for line in r["error"].splitlines()))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    failed = [r for r in results if not r["ok"]]
    if failed:
        print(f"{len(failed)} of {len(results)} combinations cannot install from wheels: a "
              "learner there would have to compile a package. Change the pin named above.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
