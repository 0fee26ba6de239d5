"""The participant self-check (`python -m dlps check`) and its run-time prediction.

Each failure the self-check reports is provoked for real: a wrong package version, no data and
no network, a missing `dot`, a machine too slow for the schedule.  The prediction itself is
compared with the measured run times of a real `laptop` run on this machine.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import dlps
from dlps import data, schedule, selfcheck

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"
#: Run records of a real `laptop` run to test the prediction against (see the last test).
MEASURED_ENV = "DLPS_MEASURED_RUNS"


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """An empty data folder, no mirrors, no stand-ins, no offline switch."""
    for name in (data.MIRROR_ENV, data.MIRROR_URL_ENV, data.OFFLINE_ENV, data.FIXTURES_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "data"))
    return tmp_path / "data"



# --------------------------------------------------------------------------- Python, packages
@pytest.mark.parametrize("version, status", [((3, 10, 14), "fail"), ((3, 11, 0), "ok"),
                                             ((3, 14, 2), "ok"), ((3, 15, 0), "fail")])
def test_python_version(version, status):
    assert selfcheck.check_python(version).status == status


def test_installed_packages_match_the_pins():
    """This environment was made by `make env` from requirements.txt (torch's '+cu...' local
    version label names a build of the pinned release, not another release)."""
    result = selfcheck.check_packages()
    assert result.status == "ok", result.lines()


def test_wrong_package_version_is_listed(tmp_path):
    numpy_version = selfcheck.installed_version("numpy")
    torch_public = torch.__version__.split("+")[0]
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"# pins\nnumpy==1.26.4\ntorch=={torch_public}\n"
                            "no-such-package-dlps==1.0\n"
                            "colorama==0.4.6 ; sys_platform == 'win32'\n")
    result = selfcheck.check_packages(requirements)
    assert result.status == "fail"
    assert result.summary == "2 of 3 pins of requirements.txt differ"
    assert result.details[0] == f"read {requirements}"
    text = "\n".join(result.lines())
    assert f"numpy: {numpy_version} installed, 1.26.4 pinned" in text
    assert "no-such-package-dlps: not installed (pinned 1.0)" in text
    assert "torch" not in text and "make env" in text
    print("\n".join(result.lines()))


#: The authors' tools: pinned in requirements-dev.txt only, never checked on a learner's machine.
AUTHOR_TOOLS = {"jupyter-book", "myst-nb", "sphinx-exercise", "ruff", "nbqa", "pytest", "nbval",
                "pytest-xdist", "playwright"}


def test_learner_and_author_pins_are_two_files():
    """requirements.txt holds what learners need (the notebooks' packages and JupyterLab);
    requirements-dev.txt includes it and adds the authors' tools; no package is pinned twice."""
    learner = selfcheck.read_pins(selfcheck.REQUIREMENTS)
    author = selfcheck.read_pins(selfcheck.DEV_REQUIREMENTS)
    assert selfcheck.REQUIREMENTS.name == "requirements.txt"
    assert {"torch", "jupyterlab", "jupytext", "ipykernel", "ipywidgets"} <= set(learner)
    assert not AUTHOR_TOOLS & set(learner), "an authors' tool is in the learner pins"
    assert AUTHOR_TOOLS <= set(author)
    assert not set(learner) & set(author), "a package is pinned in both files"
    lines = [line.strip() for line in selfcheck.DEV_REQUIREMENTS.read_text().splitlines()]
    assert "-r requirements.txt" in lines, "the dev file must include the learner pins"


def test_make_env_installs_the_learner_pins_and_the_authors_targets_add_theirs(tmp_path):
    """`make -n` (nothing runs) for a fresh environment: `make env` installs requirements.txt
    only; `make test`, `make book` and `make lint` add requirements-dev.txt; a change to either
    file makes the authors' stamp out of date."""
    def planned(target: str) -> str:
        return subprocess.run(["make", "-n", "-C", str(ROOT), target, f"VENV={tmp_path}/venv"],
                              capture_output=True, text=True).stdout

    learner = "pip install --quiet -r requirements.txt"
    author = "pip install --quiet -r requirements-dev.txt"
    env = planned("env")
    assert learner in env and author not in env and "requirements-dev" not in env
    for target in ("test", "book", "lint"):
        commands = planned(target)
        assert learner in commands and author in commands, target
        assert commands.index(learner) < commands.index(author)
    rule = re.search(r"^\$\(DEV_STAMP\):(.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert rule and {"requirements.txt", "requirements-dev.txt"} <= set(rule[1].split())


def test_every_package_a_notebook_imports_is_a_learner_pin():
    """What a learner's notebook (or the dlps package it imports) needs is installed by
    `make env`: each imported top-level package belongs to a pinned distribution, or comes with
    one as its dependency (Pillow with torchvision and matplotlib, packaging with pooch)."""
    import ast
    from importlib import metadata

    import jupytext

    def imported(path: Path) -> set[str]:
        if path.suffix == ".md":     # Python cells only: no %%bash cells, no magic lines
            cells = [cell.source for cell in jupytext.read(path).cells
                     if cell.cell_type == "code" and not cell.source.lstrip().startswith("%%")]
            cells = [re.sub(r"^\s*[%!].*$", "", code, flags=re.M) for code in cells]
        else:
            cells = [path.read_text()]
        names = set()
        for node in (node for code in cells for node in ast.walk(ast.parse(code))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
        return names

    pinned = {name.lower() for name in selfcheck.read_pins(selfcheck.REQUIREMENTS)}
    dependency_of_a_pin = {"pillow", "packaging"}
    sources = [*ROOT.glob("lessons/*.md"), *ROOT.glob("solutions/*.md"), *ROOT.glob("dlps/*.py")]
    owners = metadata.packages_distributions()
    unpinned = {}
    for path in sources:
        for name in imported(path):
            if name in sys.stdlib_module_names or name in ("dlps", "myst_nb", "google"):
                continue   # myst_nb only while the book is built (dlps.glue); google: Colab
            distributions = {d.lower() for d in owners.get(name, [name])}
            if not distributions & (pinned | dependency_of_a_pin):
                unpinned.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    assert not unpinned, f"imported but not pinned in requirements.txt: {unpinned}"


def shadow_distribution(folder: Path, name: str, version: str) -> Path:
    """A folder whose metadata says that ``name`` is installed at ``version``; first on
    PYTHONPATH, it is what importlib.metadata (and so the self-check) finds."""
    info = folder / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return folder


@pytest.mark.parametrize("package, kind", [("ruff", "author"), ("tqdm", "learner")])
def test_self_check_passes_a_wrong_author_tool_and_fails_a_wrong_learner_package(
        tmp_path, package, kind):
    """`python -m dlps check` as a participant runs it, with one installed version changed: a
    mismatched authors' tool (ruff) still gives PASS, a mismatched learner package (tqdm) FAIL,
    and the Packages line says which file was read."""
    assert (package in selfcheck.read_pins(selfcheck.DEV_REQUIREMENTS)) == (kind == "author")
    assert (package in selfcheck.read_pins()) == (kind == "learner")
    shadow = shadow_distribution(tmp_path / "shadow", package, "0.0.1")
    env = {**os.environ, "PYTHONPATH": str(shadow)}
    result = subprocess.run([sys.executable, "-m", "dlps", "check", "--no-benchmark"],
                            env=env, capture_output=True, text=True, cwd=ROOT)
    print(result.stdout)
    packages = [line for line in result.stdout.splitlines() if "Packages:" in line][0]
    assert f"read {selfcheck.REQUIREMENTS}" in result.stdout
    if kind == "author":
        assert packages.startswith("[ ok ]") and "pins of requirements.txt installed" in packages
        # The verdict must not blame the packages. Other checks (the data, on a machine whose
        # test datasets are not prepared yet) may fail for their own reasons, which this test
        # does not control, so it reads the list of failed checks instead of demanding PASS.
        verdict = result.stdout.splitlines()[-1]
        failed = verdict.split(":", 1)[1].split(" need attention")[0] if verdict.startswith(
            "FAIL") else ""
        assert "Packages" not in failed, verdict
        assert verdict.startswith("PASS") == (result.returncode == 0)
    else:
        assert packages.startswith("[FAIL]") and "1 of" in packages
        assert f"{package}: 0.0.1 installed" in result.stdout
        assert result.returncode == 1 and result.stdout.splitlines()[-1].startswith(
            "FAIL: Packages")


# --------------------------------------------------------------------------- device, Graphviz
def test_device_check_computes_on_the_chosen_device():
    result = selfcheck.check_device()
    assert result.status == "ok"
    assert result.summary.startswith(dlps.get_device(verbose=False).type)


def test_missing_dot_is_a_note_that_names_what_is_lost():
    result = selfcheck.check_graphviz(which=lambda name: None)
    assert result.status == "note"
    assert "Lesson 1" in result.summary and "apt install graphviz" in result.details[0]
    assert selfcheck.check_graphviz(which=lambda name: "/usr/bin/dot").status == "ok"
    # A note never turns the summary into FAIL.
    assert selfcheck.summary_line([result]).startswith("PASS")
    print("\n".join(result.lines()))


# --------------------------------------------------------------------------- data
def test_no_data_and_no_network_fails_and_says_how_to_get_each_dataset(isolated, no_network):
    result = selfcheck.check_data()          # the real reachability test, blocked
    print("\n".join(result.lines()))
    assert result.status == "fail"
    kit = [name for name, dataset in data.DATASETS.items() if dataset.kit]
    assert result.summary.startswith(f"0 of {len(kit)} datasets ready")
    for name, line in zip(kit, result.details):
        assert line.startswith(f"{name}: missing") and "not downloadable" in line
        assert "workshop kit" in line and f"python -m dlps stage {name}" in line
    assert not any(isolated.rglob("*.*")), "the check must never download or create files"


def test_missing_data_that_can_be_downloaded_is_ready(isolated):
    asked = []
    result = selfcheck.check_data(probe=lambda url: asked.append(url) or True)
    assert result.status == "ok", result.lines()
    assert all("downloadable from" in line for line in result.details)
    # California housing has no URL of its own: its builder's source is probed instead.
    assert any("figshare" in url for url in asked)


def test_offline_switch_means_not_downloadable(isolated, monkeypatch):
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    assert selfcheck.reachable("https://download.pytorch.org/") is False


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs the shared offline dataset folder")
def test_mirrored_data_is_verified_and_a_corrupt_file_fails(isolated, no_network, monkeypatch):
    monkeypatch.setenv(data.MIRROR_ENV, str(SHARED))
    result = selfcheck.check_data()
    lines = dict(line.split(": ", 1) for line in result.details)
    for name in ("mnist", "fashion_mnist", "wine_quality", "california_housing"):
        assert lines[name].startswith("verified (mirror"), lines[name]
    bad = isolated / "wine-quality" / "winequality-red.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("not the wine data\n")
    result = selfcheck.check_data()
    lines = dict(line.split(": ", 1) for line in result.details)
    assert result.status == "fail" and lines["wine_quality"].startswith("wrong checksum")


# --------------------------------------------------------------------------- benchmark
def test_benchmark_trains_for_real_and_keeps_the_random_streams():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    result = selfcheck.benchmark(seconds=1.0)
    assert torch.equal(torch.rand(3), expected), "the benchmark changed the random stream"
    assert result["cnn_images_per_s"] > 0 and result["mlp_samples_per_s"] > 0
    assert result["score"] == pytest.approx(
        (result["cnn_images_per_s"] * result["mlp_samples_per_s"]) ** 0.5, rel=1e-2)
    assert min(result["steps"]) >= 1 and result["threads"] == torch.get_num_threads()


def test_benchmark_whose_loss_does_not_fall_fails():
    result = {"score": 100.0, "cnn_images_per_s": 50.0, "mlp_samples_per_s": 200.0,
              "threads": 2, "seconds": 10.0, "device": "cpu", "steps": [40, 300],
              "loss_fell": False}
    assert selfcheck.check_benchmark(result, None).status == "fail"
    assert selfcheck.check_benchmark({**result, "loss_fell": True}, None).status == "ok"
    # Too few steps to expect learning: a busy machine, not a broken one.
    assert selfcheck.check_benchmark({**result, "steps": [3, 20]}, None).status == "ok"


# --------------------------------------------------------------------------- prediction
LESSON = schedule.Lesson("lessons/99_test", 99, "A test lesson", teaching=100, exercises=40)
REFERENCE = {"device": "cpu", "machine": "x86_64, 2 threads", "benchmark": {"score": 200.0},
             "lessons": {"lessons/99_test": {"laptop": 600.0}},
             "minutes": {"lessons/99_test": [100, 40]}}


def bench(score, device="cpu"):
    return {"score": score, "device": device}


def test_prediction_scales_reference_times_by_the_benchmark():
    assert schedule.predict(REFERENCE, 100.0, "laptop") == {"lessons/99_test": 1200.0}
    assert schedule.predict(REFERENCE, 400.0, "laptop") == {"lessons/99_test": 300.0}
    assert schedule.predict(REFERENCE, 400.0, "full") == {}
    with pytest.raises(ValueError):
        schedule.predict(REFERENCE, 0.0, "laptop")


def test_budgets():
    # the schedule gives 140 min; learners wait too long beyond a quarter of 100 min
    assert schedule.judge(140 * 60, 100, 40) == "wait"
    assert schedule.judge(140 * 60 + 1, 100, 40) == "fail"
    assert schedule.judge(25 * 60, 100, 40) == "ok"
    assert schedule.judge(25 * 60 + 1, 100, 40) == "wait"


def test_slow_machine_fails_and_names_the_colab_fallback():
    # 600 s on the reference -> 600 * 200 / 10 = 12 000 s = 200 min > 140 min scheduled
    result = selfcheck.check_run_times(bench(10.0), REFERENCE, "laptop", [LESSON])
    print("\n".join(result.lines()))
    assert result.status == "fail" and "1 too slow" in result.summary
    assert "Lesson 99: about 200.0 min here (schedule: 100 + 40 min)  TOO SLOW" in result.details[0]
    assert "Colab" in result.details[0] and "`full` profile" in result.details[0]


def test_middling_machine_gets_a_note_to_start_before_the_break():
    # 600 * 200 / 40 = 3000 s = 50 min: fits the 140 min, but more than a quarter of 100 min
    result = selfcheck.check_run_times(bench(40.0), REFERENCE, "laptop", [LESSON])
    assert result.status == "note" and "before the lesson" in result.details[0]
    fast = selfcheck.check_run_times(bench(400.0), REFERENCE, "laptop", [LESSON])
    assert fast.status == "ok" and "about 5.0 min here" in fast.details[0]


def test_minutes_come_from_the_reference_without_lesson_sources():
    result = selfcheck.check_run_times(bench(10.0), REFERENCE, "laptop", [])
    assert result.status == "fail" and "schedule: 100 + 40 min" in result.details[0]


def test_lessons_without_reference_times_are_named():
    other = schedule.Lesson("lessons/98_other", 98, "Another lesson", teaching=60, exercises=30)
    result = selfcheck.check_run_times(bench(400.0), REFERENCE, "laptop", [other, LESSON])
    assert result.status == "ok"
    assert "Lesson 98: no reference time in the 'laptop' profile" in result.details[-1]


def test_profiles_without_reference_times_are_notes():
    assert selfcheck.check_run_times(bench(10.0), REFERENCE, "full", [LESSON]).status == "note"
    smoke = selfcheck.check_run_times(bench(10.0), REFERENCE, "smoke", [LESSON])
    assert smoke.status == "note" and "tests" in smoke.summary
    assert selfcheck.check_run_times(bench(10.0), None, "laptop", [LESSON]).status == "note"


# --------------------------------------------------------------------------- calibration
def write_record(folder, notebook, seconds, profile="laptop", device_name="x86_64, 2 threads"):
    path = folder / f"{notebook}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "notebook": notebook, "profile": profile, "device": "cpu", "device_name": device_name,
        "torch": "2.15.0", "seconds": seconds, "peak_memory_gb": 1.0,
        "peak_gpu_memory_gb": None, "finished": "2026-01-01 10:00:00 UTC", "metrics": {}}))


def test_calibrate_writes_the_reference_from_run_records(tmp_path):
    runs = tmp_path / "runs"
    write_record(runs, "lessons/01_tensors_autograd", 120.0)
    write_record(runs, "lessons/04_cnn_overfitting", 540.0)
    # a lesson that chose one thread itself: the same machine
    write_record(runs, "lessons/06_force_fields", 300.0, device_name="x86_64, 1 threads")
    write_record(runs, "solutions/04_cnn_overfitting", 300.0)   # not a lesson: ignored
    for score in (90.0, 110.0, 100.0):
        selfcheck.record_benchmark(runs, {"score": score, "device": "cpu",
                                          "machine": "x86_64, 2 threads"})
    path = selfcheck.calibrate([runs], output=tmp_path / "reference_times.py")
    reference = schedule.load_reference(path)
    assert reference["benchmark"] == {"score": 100.0, "runs": 3, "lowest": 90.0,
                                      "highest": 110.0}
    assert reference["lessons"] == {"lessons/01_tensors_autograd": {"laptop": 120.0},
                                    "lessons/04_cnn_overfitting": {"laptop": 540.0},
                                    "lessons/06_force_fields": {"laptop": 300.0}}
    lesson4 = next(lesson for lesson in schedule.read_lessons()
                   if lesson.name == "lessons/04_cnn_overfitting")
    assert reference["minutes"]["lessons/04_cnn_overfitting"] == [lesson4.teaching,
                                                                  lesson4.exercises]
    assert "GENERATED by `python -m dlps calibrate" in path.read_text()
    # Records of another machine cannot share one reference.
    write_record(runs, "lessons/02_regression", 200.0, device_name="arm64, 8 threads")
    with pytest.raises(ValueError, match="different machines"):
        selfcheck.calibrate([runs], output=tmp_path / "mixed.py")
    # Benchmarks that spread more than a quiet machine's do were taken on a busy machine.
    (runs / "lessons" / "02_regression.json").unlink()     # the other machine's record
    selfcheck.record_benchmark(runs, {"score": 60.0, "device": "cpu",
                                      "machine": "x86_64, 2 threads"})
    with pytest.raises(ValueError, match=r"range from 60 to 110 \(1.83x"):
        selfcheck.calibrate([runs], output=tmp_path / "busy.py")
    # Without a benchmark there is nothing to scale by.
    with pytest.raises(ValueError, match="no benchmark"):
        schedule.build_reference({}, [], [], "test")


def test_calibrate_takes_the_median_of_repeated_runs(tmp_path):
    folders = [tmp_path / name for name in ("first", "second", "third")]
    for folder, seconds in zip(folders, (80.0, 60.0, 66.0)):
        write_record(folder, "lessons/03_classification", seconds)
        selfcheck.record_benchmark(folder, {"score": 100.0, "device": "cpu",
                                            "machine": "x86_64, 2 threads"})
    write_record(folders[0], "lessons/04_cnn_overfitting", 500.0)   # ran once
    reference = schedule.load_reference(selfcheck.calibrate(folders, output=tmp_path / "r.py"))
    assert reference["lessons"] == {"lessons/03_classification": {"laptop": 66.0},
                                    "lessons/04_cnn_overfitting": {"laptop": 500.0}}
    assert len(reference["finished"]["lessons/03_classification"]["laptop"]) == 3
    assert reference["benchmark"]["runs"] == 3


def test_calibrate_measures_the_machine_when_a_folder_has_no_benchmark(tmp_path, monkeypatch):
    runs = tmp_path / "book-laptop-runs"            # e.g. the run log of `make book`
    write_record(runs, "lessons/01_tensors_autograd", 120.0)
    scores = iter([95.0, 110.0, 100.0])
    monkeypatch.setattr(selfcheck, "benchmark", lambda: {
        "score": next(scores), "device": "cpu", "machine": "x86_64, 2 threads"})
    reference = schedule.load_reference(selfcheck.calibrate([runs], output=tmp_path / "ref.py"))
    assert reference["benchmark"]["score"] == 100.0 and reference["benchmark"]["runs"] == 3
    assert len(selfcheck.read_benchmarks(runs)) == 3


def test_calibrate_run_runs_every_lesson_between_benchmarks(tmp_path, monkeypatch):
    """`python -m dlps calibrate --run FOLDER`: each lesson runs in its own process with the
    run log and the profile set; a benchmark comes before the first lesson and after each."""
    lessons = schedule.read_lessons()
    ran = []

    def fake_run(command, env, check):
        ran.append(command[-1])
        name = f"lessons/{Path(command[-1]).stem}"
        assert env["DLPS_PROFILE"] == "laptop" and command[1].endswith("tools/run_notebook.py")
        write_record(Path(env["DLPS_RUN_LOG"]), name, 60.0 * len(ran))

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(selfcheck, "benchmark", lambda: {
        "score": 100.0, "device": "cpu", "machine": "x86_64, 2 threads"})
    path = selfcheck.run_and_calibrate(tmp_path / "runs", output=tmp_path / "ref.py")
    assert [Path(p).stem for p in ran] == [Path(lesson.name).name for lesson in lessons]
    assert len(selfcheck.read_benchmarks(tmp_path / "runs")) == len(lessons) + 1
    reference = schedule.load_reference(path)
    assert reference["command"] == f"python -m dlps calibrate --run {tmp_path / 'runs'}"
    assert len(reference["lessons"]) == len(lessons)


def test_committed_reference_was_generated_for_the_current_lessons():
    reference = schedule.load_reference()
    assert reference is not None, "dlps/reference_times.py is missing: python -m dlps calibrate"
    assert reference["command"].startswith("python -m dlps calibrate ")
    lessons = {lesson.name for lesson in schedule.read_lessons()}
    assert set(reference["lessons"]) <= lessons
    assert all(seconds > 0 for times in reference["lessons"].values()
               for seconds in times.values())
    spread = reference["benchmark"]["highest"] / reference["benchmark"]["lowest"]
    assert spread <= schedule.MAX_BENCHMARK_SPREAD, "the reference was measured on a busy machine"


# --------------------------------------------------------------------------- the whole check
def test_lesson_minutes_are_read_from_every_lesson():
    lessons = schedule.read_lessons()
    assert [lesson.number for lesson in lessons] == list(range(1, len(lessons) + 1))
    assert all(lesson.teaching > 0 and lesson.exercises > 0 for lesson in lessons)
    # the timetables built from these minutes are tested in tests/test_schedule.py


def test_cli_prints_marks_and_exits_1_on_fail(isolated, no_network, capsys):
    from dlps.__main__ import main

    assert main(["check", "--no-benchmark"]) == 1     # no data at all
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("FAIL: Data need attention")
    assert all(re.match(r"(\[ ok \]|\[note\]|\[FAIL\]|       )", line) for line in out[1:-1])


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs the shared offline dataset folder")
def test_cli_passes_with_data_in_place(isolated, monkeypatch, capsys, tmp_path):
    """Every kit dataset in a mirror (CIFAR-10 and the ResNet18 weights as the test suite's
    stand-ins, which the check reports as notes): PASS, exit status 0."""
    from dlps.__main__ import main

    sys.path.insert(0, str(ROOT / "tests"))
    import make_fixtures

    monkeypatch.setenv(data.MIRROR_ENV, str(SHARED))
    monkeypatch.setenv(data.FIXTURES_ENV, str(make_fixtures.main(tmp_path / "fixtures")))
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    assert main(["check", "--no-benchmark"]) == 0
    out = capsys.readouterr().out
    print(out)
    assert out.splitlines()[-1].startswith("PASS")


# --------------------------------------------------------------------------- against reality
def _measured_folder() -> Path | None:
    return Path(os.environ[MEASURED_ENV]) if os.environ.get(MEASURED_ENV) else None


# A measurement, not a unit test: it needs a quiet machine (its benchmark must not share the
# cores with the rest of the suite) and the records of a laptop run made on that machine, so it
# runs only when asked, alone (CONTRIBUTING, "Run times and the self-check's reference"):
#   DLPS_MEASURED_RUNS=<run log> pytest --numprocesses=0 tests/test_selfcheck.py -k factor -s
@pytest.mark.skipif(_measured_folder() is None or not _measured_folder().is_dir(),
                    reason=f"a measurement: run it alone with {MEASURED_ENV} pointing at the "
                           "DLPS_RUN_LOG of a quiet laptop-profile run of every lesson")
def test_prediction_is_within_a_factor_1_5_of_measured_laptop_times():
    """Predict every lesson's laptop run time on this machine from a fresh benchmark and the
    committed reference, and compare with the records of a real laptop run here.

    The benchmark runs in a fresh process with torch's default thread count, as the self-check
    does.  The measured runs must not be the reference's own runs.
    """
    measured = {name: record for name, record in dlps.runlog.read_records(
        _measured_folder()).items() if name.startswith("lessons/")}
    reference = schedule.load_reference()
    lessons = [lesson.name for lesson in schedule.read_lessons()]
    missing = [name for name in lessons
               if name not in measured or measured[name]["profile"] != "laptop"]
    assert not missing, f"{_measured_folder()} lacks laptop records of {missing}"
    for name in lessons:
        assert measured[name]["finished"] not in reference["finished"][name].get("laptop", []), (
            f"{name}: the measured run is the reference's own run; use another run")
    # A fresh process with torch's default threads, like `python -m dlps check` and the
    # reference benchmark (the suite's own OMP_NUM_THREADS=1 must not leak into it).
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    code = "import json; from dlps import selfcheck; print(json.dumps(selfcheck.benchmark()))"
    result = json.loads(subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                       capture_output=True, text=True).stdout.splitlines()[-1])
    predicted = schedule.predict(reference, result["score"], "laptop")
    rows = []
    for name in lessons:
        seconds = measured[name]["seconds"]
        ratio = predicted[name] / seconds
        rows.append((name, predicted[name], seconds, ratio))
        print(f"{name:32s} predicted {predicted[name]:7.0f} s  measured {seconds:7.0f} s  "
              f"ratio {ratio:.2f}")
    print(f"benchmark score now {result['score']}, reference {reference['benchmark']['score']}")
    wrong = [row for row in rows if not 1 / 1.5 <= row[3] <= 1.5]
    assert not wrong, f"predictions off by more than a factor 1.5: {wrong}"
