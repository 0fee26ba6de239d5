"""The participant self-check: is this machine ready for the workshop?

    python -m dlps check            # in a terminal, from the course folder
    from dlps.selfcheck import self_check; self_check()   # the same, in a notebook cell

Each check prints one line with a mark, ``[ ok ]``, ``[note]`` (something is lost or needs a
decision, but the course runs) or ``[FAIL]`` (fix it before the workshop), and indented
details; the last line says PASS or FAIL (exit status 0 or 1).  The checks:

* Python is a supported version and every pin of ``requirements.txt`` (the packages a learner
  needs) is installed at its version; the authors' tools of ``requirements-dev.txt`` (book,
  lint, tests) are not checked, so a learner never fails for them;
* the device ``dlps.get_device`` chooses, and one small matrix product on it;
* Graphviz's ``dot`` (only Lesson 1's graph pictures need it: a note, never a FAIL);
* every dataset of the workshop kit: verified in the data folder or a mirror, or downloadable
  (a quick test that its host answers; nothing is downloaded), or what is missing and how to
  get it;
* a micro-benchmark (about ten seconds of real training of a small CNN and an MLP) and, from
  it, the predicted run time of every lesson on this machine, checked against the time the
  workshop schedule gives the lesson.

The prediction scales the run times measured on a reference machine (``dlps/reference_times.py``,
written by ``python -m dlps calibrate``) by the ratio of the two benchmark scores; the rules
are in ``dlps/schedule.py``.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from . import data, schedule

__all__ = ["Result", "benchmark", "calibrate", "run_checks", "self_check"]

#: Python versions the pins of requirements.txt have wheels for (the Makefile says the same).
SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13), (3, 14))
#: Where the learner pins live in a course checkout: the only file the self-check reads.
REQUIREMENTS = schedule.ROOT / "requirements.txt"
#: The authors' pins (book, lint, tests), which the self-check leaves alone.
DEV_REQUIREMENTS = schedule.ROOT / "requirements-dev.txt"
#: Seconds the benchmark trains each of its two models (plus a few warm-up steps).
BENCHMARK_SECONDS = 4.5
#: Name of the file, inside a run-log folder, that collects benchmark results (JSON lines;
#: not ``*.json``, which the run-log readers take for notebook records).
BENCHMARK_LOG = "benchmark.jsonl"
#: A missing official dataset that the data layer replaces by another one (for measuring only).
FALLBACKS = {"cifar10": "cifar10_jpeg"}

#: Timed steps of each benchmark model after which its training loss must have fallen.
MIN_STEPS_TO_LEARN = 30

MARKS = {"ok": "[ ok ]", "note": "[note]", "fail": "[FAIL]"}


@dataclass
class Result:
    """One check: its name, 'ok' / 'note' / 'fail', a one-line summary and detail lines."""

    name: str
    status: str
    summary: str
    details: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{MARKS[self.status]} {self.name}: {self.summary}"]
        out += [f"       {line}" for line in self.details]
        return out


# --------------------------------------------------------------------------- Python, packages
def check_python(version: tuple[int, ...] | None = None) -> Result:
    """The interpreter is one of SUPPORTED_PYTHONS."""
    version = tuple(version or sys.version_info[:3])
    shown = ".".join(map(str, version))
    supported = ", ".join(f"{a}.{b}" for a, b in SUPPORTED_PYTHONS)
    if tuple(version[:2]) in SUPPORTED_PYTHONS:
        return Result("Python", "ok", f"{shown} ({sys.executable})")
    return Result("Python", "fail", f"{shown} is not supported (use one of {supported})",
                  ["Install a supported Python, remove .venv and run e.g. "
                   "`make env PYTHON=python3.12`."])


def read_pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """``{package: pinned version}`` of every ``name==version`` line that applies here (pip's
    options, such as ``-r other.txt``, are not pins and are skipped)."""
    from packaging.requirements import Requirement

    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        exact = [spec.version for spec in requirement.specifier if spec.operator == "=="]
        if exact:
            pins[requirement.name] = exact[0]
    return pins


def installed_version(package: str) -> str | None:
    """The installed version of a distribution, or None."""
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _same_version(installed: str, pinned: str) -> bool:
    from packaging.version import Version

    # A local label such as '+cpu' or '+cu128' names the build, not another release.
    return Version(installed).public == Version(pinned).public


def check_packages(requirements: Path = REQUIREMENTS, version_of=installed_version) -> Result:
    """Every pin of the learner file (requirements.txt) is installed at its version (a list of
    mismatches if not).  The result names the file it read; the authors' tools of
    requirements-dev.txt are never checked."""
    if not requirements.is_file():
        return Result("Packages", "note", f"no {requirements.name} next to the dlps package, so "
                      "the pins were not checked (normal in Colab)")
    pins = read_pins(requirements)
    read = f"read {requirements}"
    if requirements == REQUIREMENTS:
        read += (f" (the learner packages; the authors' tools in {DEV_REQUIREMENTS.name} are "
                 "not checked)")
    wrong = []
    for package, pinned in pins.items():
        installed = version_of(package)
        if installed is None:
            wrong.append(f"{package}: not installed (pinned {pinned})")
        elif not _same_version(installed, pinned):
            wrong.append(f"{package}: {installed} installed, {pinned} pinned")
    if not wrong:
        return Result("Packages", "ok", f"all {len(pins)} pins of {requirements.name} installed",
                      [read])
    in_colab = "google.colab" in sys.modules
    fix = ("Colab brings its own versions; the notebooks are tested with the pins above."
           if in_colab else
           "Fix: in the course folder run `make env` (or `.venv/bin/python -m pip install -r "
           f"{requirements.name}`), and start Jupyter from .venv.")
    return Result("Packages", "note" if in_colab else "fail",
                  f"{len(wrong)} of {len(pins)} pins of {requirements.name} differ",
                  [read] + wrong + [fix])


# --------------------------------------------------------------------------- device
def check_device() -> Result:
    """The device dlps chooses, and a small matrix product computed on it."""
    import torch

    from . import get_device, machine_name

    device = get_device(verbose=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        matrix = torch.rand(64, 64)
    on_device = (matrix.to(device) @ matrix.to(device).T).cpu()
    expected = matrix.double() @ matrix.double().T
    name = "Apple GPU (Metal)" if device.type == "mps" else machine_name(device)
    # float32 products (TF32 on recent NVIDIA GPUs) agree to about three significant digits.
    if torch.allclose(on_device.double(), expected, rtol=5e-3, atol=1e-3):
        return Result("Device", "ok", f"{device.type} ({name}); a 64x64 matrix product on it "
                      "is correct")
    return Result("Device", "fail", f"{device.type} ({name}) gave a wrong matrix product",
                  ["Update the GPU driver, or set CUDA_VISIBLE_DEVICES= (empty) to use the CPU."])


# --------------------------------------------------------------------------- Graphviz
def check_graphviz(which=shutil.which) -> Result:
    """Graphviz's ``dot``: only Lesson 1's computational-graph pictures need it."""
    path = which("dot")
    if path:
        return Result("Graphviz", "ok", f"`dot` found ({path})")
    return Result("Graphviz", "note", "`dot` not found: Lesson 1 prints a note instead of "
                  "drawing its computational graphs (everything else works)",
                  ["Install it: apt install graphviz (Debian/Ubuntu), brew install graphviz "
                   "(macOS), conda install graphviz, or winget install graphviz (Windows)."])


# --------------------------------------------------------------------------- data
def reachable(url: str, timeout: float = 4.0) -> bool:
    """Does the host of ``url`` answer an HTTP HEAD request?  Nothing is downloaded."""
    if data._offline():
        return False
    try:
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=timeout):
            return True
    except Exception as err:   # HTTP errors still mean that the host answered
        return isinstance(err, urllib.error.HTTPError) and err.code < 500


def _mirror_copy(relpath: str) -> Path | None:
    for mirror in data._mirror_dirs():
        if (mirror / relpath).is_file():
            return mirror / relpath
    return None


def _file_state(relpath: str) -> tuple[str, str]:
    """('ok' | 'bad' | 'missing' | 'stand-in', where) for one registry file: the data folder,
    then mirrors, then (only inside the test suite) the test harness's stand-in."""
    if data.is_fixture(relpath):
        return "stand-in", "test stand-in"
    state = data.file_status(relpath)
    if state == "ok":
        return "ok", "data folder"
    if state == "bad checksum":
        return "bad", str(data.data_dir() / relpath)
    copy = _mirror_copy(relpath)
    if copy is None:
        return ("stand-in", "test stand-in") if relpath in data._fixtures() else ("missing", "")
    try:
        data._check(copy, data.REGISTRY[relpath])
    except data.ChecksumError:
        return "bad", str(copy)
    return "ok", f"mirror {copy.parent}"


def _download_urls(dataset: data.Dataset) -> list[str]:
    urls = [url for relpath in dataset.files for url in data.REGISTRY[relpath].urls]
    if os.environ.get(data.MIRROR_URL_ENV):
        urls.insert(0, os.environ[data.MIRROR_URL_ENV])
    if not urls and dataset.builder:   # e.g. scikit-learn downloads it from its own source
        urls = [u.rstrip(",;)") for u in re.findall(r"https?://\S+", dataset.source)]
    return urls


def _dataset_state(dataset: data.Dataset, probe) -> tuple[str, str]:
    states = {relpath: _file_state(relpath) for relpath in dataset.files}
    bad = [f"{where} ({relpath})" for relpath, (state, where) in states.items() if state == "bad"]
    if bad:
        return "fail", (f"{dataset.name}: wrong checksum in {', '.join(bad)}; delete it, then "
                        "`python -m dlps stage " + dataset.name + "`")
    if all(state == "ok" for state, _ in states.values()):
        places = sorted({where for _, where in states.values()})
        return "ok", f"{dataset.name}: verified ({', '.join(places)})"
    if all(state in ("ok", "stand-in") for state, _ in states.values()):
        return "note", (f"{dataset.name}: the test suite's random stand-in ({data.FIXTURES_ENV} "
                        "is set): code paths run, results mean nothing")
    if dataset.builder:
        built = data.data_dir() / dataset.builder_home
        if all((built / Path(p).name).exists() for p in dataset.files):
            return "ok", f"{dataset.name}: built by {dataset.builder} in {built}"
    fallback = FALLBACKS.get(dataset.name)
    if fallback and all(_file_state(p)[0] == "ok" for p in data.DATASETS[fallback].files):
        return "note", (f"{dataset.name}: the official files are missing; the lessons will use "
                        f"{data.DATASETS[fallback].title}, which is not the official data")
    missing = [p for p, (state, _) in states.items() if state == "missing"]
    megabytes = sum(data.REGISTRY[p].size for p in missing) / 1e6
    urls = _download_urls(dataset)
    if urls and probe(urls[0]):
        return "ok", (f"{dataset.name}: not here yet; downloadable from {urls[0].split('/')[2]} "
                      f"({megabytes:.0f} MB, fetched and verified on first use)")
    return "fail", (f"{dataset.name}: missing ({', '.join(missing)}) and not downloadable from "
                    f"here. Get the workshop kit and set {data.DATA_ENV} (or {data.MIRROR_ENV}) "
                    f"to its folder, or run `python -m dlps stage {dataset.name}` on a machine "
                    f"with internet. Source: {', '.join(urls) or dataset.citation}")


def check_data(probe=reachable) -> Result:
    """Every dataset of the workshop kit: present and verified, downloadable, or missing."""
    kit = [dataset for dataset in data.DATASETS.values() if dataset.kit]
    states = [_dataset_state(dataset, probe) for dataset in kit]
    worst = ("fail" if any(s == "fail" for s, _ in states)
             else "note" if any(s == "note" for s, _ in states) else "ok")
    ready = sum(s != "fail" for s, _ in states)
    summary = f"{ready} of {len(kit)} datasets ready (data folder {data.data_dir()})"
    return Result("Data", worst, summary, [line for _, line in states])


# --------------------------------------------------------------------------- benchmark
def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def _train_for(model, batches, device, seconds: float) -> tuple[float, int, float, float]:
    """Train ``model`` on ``batches`` (cycled) for ``seconds``; return samples/s, the number of
    timed steps, and the loss on the first batch before and after.  Three warm-up steps come
    first: the first steps allocate memory and choose kernels, which a lesson pays once."""
    import torch

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def first_batch_loss() -> float:
        with torch.no_grad():
            inputs, targets = batches[0]
            return loss_fn(model(inputs.to(device)), targets.to(device)).item()

    def step(inputs, targets) -> float:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss.item()   # waits for the device, as a lesson's logging does

    before = first_batch_loss()
    for i in range(3):
        step(*batches[i % len(batches)])
    _sync(device)
    samples, count, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        inputs, targets = batches[count % len(batches)]
        step(inputs, targets)
        samples, count = samples + len(inputs), count + 1
    _sync(device)
    rate = samples / (time.perf_counter() - start)
    return rate, count, before, first_batch_loss()


def _learnable_batches(shape, num_classes, batch_size, num_batches, generator):
    """Noisy copies of one random template per class: a task a network learns within a few
    dozen steps, so the benchmark's loss must fall (a check that the training really ran)."""
    import torch

    templates = torch.randn(num_classes, *shape, generator=generator)
    labels = torch.randint(0, num_classes, (batch_size * num_batches,), generator=generator)
    inputs = 0.5 * templates[labels] + torch.randn(len(labels), *shape, generator=generator)
    return list(zip(inputs.split(batch_size), labels.split(batch_size)))


def benchmark(seconds: float = BENCHMARK_SECONDS, device=None) -> dict:
    """Train a small CNN and an MLP, as the lessons do, and measure this machine's throughput.

    The CNN has Lesson 4's laptop shape (two conv blocks of 16 and 32 channels on 32x32 colour
    images, batch 64); the MLP is Lesson 3's MNIST network (784 -> 128 -> 10, batch 64).  Each
    trains with Adam for ``seconds`` on the device that ``dlps.get_device`` chooses.  The score
    is the geometric mean of the two throughputs (samples per second).  The random streams of
    the caller are left as they were.
    """
    import torch
    from torch import nn

    from . import get_device, machine_name

    device = device or get_device(verbose=False)
    with torch.random.fork_rng(devices=[]):
        generator = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        cnn = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 8 * 8, 512), nn.ReLU(), nn.Linear(512, 10),
        ).to(device)
        mlp = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
        cnn_batches = _learnable_batches((3, 32, 32), 10, 64, 16, generator)
        mlp_batches = _learnable_batches((784,), 10, 64, 64, generator)
        started = time.perf_counter()
        cnn_rate, cnn_steps, cnn_first, cnn_last = _train_for(cnn, cnn_batches, device,
                                                              seconds)
        mlp_rate, mlp_steps, mlp_first, mlp_last = _train_for(mlp, mlp_batches, device,
                                                              seconds)
    return {
        "score": round(math.sqrt(cnn_rate * mlp_rate), 1),
        "cnn_images_per_s": round(cnn_rate, 1),
        "mlp_samples_per_s": round(mlp_rate, 1),
        "steps": [cnn_steps, mlp_steps],
        "loss_fell": bool(cnn_last < cnn_first and mlp_last < mlp_first),
        "losses": [round(v, 3) for v in (cnn_first, cnn_last, mlp_first, mlp_last)],
        "seconds": round(time.perf_counter() - started, 1),
        "device": device.type,
        "threads": torch.get_num_threads(),
        "machine": machine_name(device),
        "torch": torch.__version__,
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def record_benchmark(folder: Path, result: dict) -> Path:
    """Append one benchmark result to ``folder/benchmark.jsonl`` (for ``calibrate``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / BENCHMARK_LOG
    with path.open("a") as stream:
        stream.write(json.dumps(result) + "\n")
    return path


def read_benchmarks(folder: Path) -> list[dict]:
    """Every benchmark result recorded in ``folder/benchmark.jsonl``."""
    path = Path(folder) / BENCHMARK_LOG
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def check_benchmark(result: dict, reference: dict | None) -> Result:
    """The benchmark's score, and how this machine compares with the reference machine."""
    summary = (f"score {result['score']:.0f} on {result['device']} "
               f"(CNN {result['cnn_images_per_s']:.0f} images/s, MLP "
               f"{result['mlp_samples_per_s']:.0f} samples/s, {result['threads']} threads, "
               f"{result['seconds']:.0f} s)")
    details = []
    if reference is not None:
        speed = result["score"] / reference["benchmark"]["score"]
        details.append(f"{speed:.2g} times the speed of the reference machine "
                       f"({reference['machine']}, score {reference['benchmark']['score']:.0f})")
    # Its task is learnable: after a few dozen Adam steps a loss that has not fallen means
    # that training on this device is broken, not slow.
    if min(result["steps"]) >= MIN_STEPS_TO_LEARN and not result["loss_fell"]:
        return Result("Benchmark", "fail", summary + "; its training loss did not fall",
                      details + ["Training on this device does not work: update PyTorch and "
                                 "the GPU driver, or set CUDA_VISIBLE_DEVICES= to use the CPU."])
    if min(result["steps"]) < MIN_STEPS_TO_LEARN:
        details.append(f"Only {min(result['steps'])} training steps fitted into the benchmark: "
                       "is another program using the processor?")
    return Result("Benchmark", "ok", summary, details)


def _lesson_label(name: str) -> str:
    """'Lesson 4' for 'lessons/04_cnn_overfitting'."""
    number = re.match(r"lessons/(\d+)_", name)
    return f"Lesson {int(number[1])}" if number else name


def _advice(profile: str, device: str) -> str:
    if device == "cpu" or device == "mps":
        return ("use Colab with a GPU runtime (the launch button on the lesson page; Runtime > "
                "Change runtime type > GPU gives the `full` profile)")
    return "use a machine with a faster GPU, or Colab with a GPU runtime"


def check_run_times(result: dict, reference: dict | None, profile: str,
                    lessons: list | None = None) -> Result:
    """Each lesson's predicted run time here, against the time the schedule gives it."""
    if reference is None:
        return Result("Run times", "note", "no reference times in this copy of the course, "
                      "so no prediction (`python -m dlps calibrate` writes them)")
    if profile == "smoke":
        return Result("Run times", "note", "DLPS_PROFILE=smoke is for the automated tests "
                      "only; unset it (or use laptop or full) for the workshop")
    lessons = schedule.read_lessons() if lessons is None else lessons
    minutes = schedule.lesson_minutes(reference, lessons)
    predicted = schedule.predict(reference, result["score"], profile)
    if not predicted:
        measured = sorted({p for times in reference["lessons"].values() for p in times})
        return Result("Run times", "note", f"no reference times for the '{profile}' profile "
                      f"(measured: {', '.join(measured)}), so no prediction")
    details, verdicts = [], []
    unmeasured = [name for name in minutes if name not in predicted]
    for name, seconds in predicted.items():
        label = _lesson_label(name)
        if name not in minutes:
            details.append(f"{label}: about {seconds / 60:.0f} min")
            continue
        teaching, exercises = minutes[name]
        verdict = schedule.judge(seconds, teaching, exercises)
        verdicts.append(verdict)
        line = (f"{label}: about {seconds / 60:.1f} min here "
                f"(schedule: {teaching} + {exercises} min)")
        if verdict == "fail":
            line += f"  TOO SLOW: {_advice(profile, result['device'])}"
        elif verdict == "wait":
            line += ("  long: run its notebook (Run All) during the break before the lesson, "
                     "or " + _advice(profile, result["device"]))
        details.append(line)
    details += [f"{_lesson_label(name)}: no reference time in the '{profile}' profile, so no "
                "prediction" for name in unmeasured]
    if result["device"] != reference["device"]:
        details.append(f"The reference was measured on {reference['device']}, this machine runs "
                       f"on {result['device']}: the prediction is rough.")
    slow = verdicts.count("fail")
    status = "fail" if slow else "note" if "wait" in verdicts else "ok"
    total = sum(predicted.values()) / 60
    summary = (f"{len(predicted)} lessons in the '{profile}' profile, about {total:.0f} min "
               "of computing in all" + (f"; {slow} too slow for the schedule" if slow else ""))
    return Result("Run times", status, summary, details)


# --------------------------------------------------------------------------- the whole check
def run_checks(*, benchmark_seconds: float = BENCHMARK_SECONDS, probe=reachable,
               which=shutil.which, requirements: Path = REQUIREMENTS,
               reference: dict | None | str = "default", emit=print) -> list[Result]:
    """Run every check and print each result as soon as it is known."""
    from . import get_profile

    reference = schedule.load_reference() if reference == "default" else reference
    results = []

    def add(result: Result) -> None:
        results.append(result)
        for line in result.lines():
            emit(line)

    add(check_python())
    add(check_packages(requirements))
    add(check_device())
    add(check_graphviz(which))
    add(check_data(probe))
    if benchmark_seconds:
        emit(f"       (measuring: about {2 * benchmark_seconds + 2:.0f} s of training ...)")
        result = benchmark(benchmark_seconds)
        add(check_benchmark(result, reference))
        add(check_run_times(result, reference, get_profile()))
    return results


def summary_line(results: list[Result]) -> str:
    failed = [r.name for r in results if r.status == "fail"]
    notes = sum(r.status == "note" for r in results)
    if failed:
        return (f"FAIL: {', '.join(failed)} need attention (see the [FAIL] lines); "
                f"{len(results) - len(failed)} of {len(results)} checks passed.")
    return (f"PASS: this machine is ready for the workshop ({len(results)} checks"
            + (f", {notes} with notes" if notes else "") + ").")


def self_check(benchmark_seconds: float = BENCHMARK_SECONDS) -> bool:
    """Check this machine for the workshop and print a report ending in PASS or FAIL.

    The same as ``python -m dlps check`` in a terminal.  Returns True for PASS.  The benchmark
    leaves the random streams of the notebook as they were.
    """
    print("Self-check of Deep Learning for the Physical Sciences")
    results = run_checks(benchmark_seconds=benchmark_seconds)
    line = summary_line(results)
    print(line)
    return line.startswith("PASS")


def calibrate(folders: list[Path], output: Path | None = None,
              command: str | None = None, add: bool = False) -> Path:
    """Write the reference file from the run records and benchmark results in ``folders``.

    A folder without benchmark results (e.g. the run log of ``make book``) gets three benchmark
    runs now, on this machine, which must then be the machine that ran the notebooks.  With
    ``add``, the lessons of ``folders`` are added to the existing reference instead, rescaled
    by the two benchmark scores (``schedule.add_to_reference``).
    """
    from .runlog import read_records

    records, benchmarks = {}, []
    for folder in map(Path, folders):
        for name, record in read_records(folder).items():
            records.setdefault(name, []).append(record)
        if not read_benchmarks(folder):
            print(f"no benchmark results in {folder}: measuring this machine now")
            for _ in range(3):
                record_benchmark(folder, benchmark())
        benchmarks += read_benchmarks(folder)
    command = command or ("python -m dlps calibrate " + ("--add " if add else "")
                          + " ".join(map(str, folders)))
    reference = schedule.build_reference(records, benchmarks, schedule.read_lessons(), command)
    if add:
        reference = schedule.add_to_reference(schedule.load_reference(), reference)
    return schedule.write_reference(reference, output or schedule.REFERENCE_FILE)


def run_and_calibrate(folder: Path, profile: str = "laptop", output: Path | None = None) -> Path:
    """Run every lesson in ``profile``, one at a time, with a benchmark before the first and
    after each one, recording into ``folder``; then write the reference file from that folder.

    This is ``python -m dlps calibrate --run FOLDER``: run it on a quiet machine (nothing else
    computing), because the benchmark and the lessons must see the same machine.
    """
    import subprocess

    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DLPS_RUN_LOG": str(folder), "DLPS_PROFILE": profile}
    record_benchmark(folder, benchmark())
    for lesson in schedule.read_lessons():
        path = schedule.LESSON_DIR / f"{Path(lesson.name).name}.md"
        print(f"running {path} in the '{profile}' profile ...", flush=True)
        subprocess.run([sys.executable, str(schedule.ROOT / "tools" / "run_notebook.py"),
                        str(path)], env=env, check=True)
        record_benchmark(folder, benchmark())
    return calibrate([folder], output, command=f"python -m dlps calibrate --run {folder}")
