"""Unit tests of the helper package: device, profile, seeding."""

import random

import numpy as np
import pytest
import torch

import dlps


@pytest.fixture
def no_accelerator(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_device_falls_back_to_cpu(no_accelerator, capsys):
    assert dlps.get_device() == torch.device("cpu")
    assert "Using device: cpu" in capsys.readouterr().out


def test_device_prefers_mps_over_cpu(no_accelerator, monkeypatch, capsys):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert dlps.get_device().type == "mps"
    assert "mps" in capsys.readouterr().out


def test_device_prefers_cuda_over_mps(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Mock GPU")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert dlps.get_device().type == "cuda"
    assert "Mock GPU" in capsys.readouterr().out


def test_device_quiet(no_accelerator, capsys):
    dlps.get_device(verbose=False)
    assert capsys.readouterr().out == ""


def test_profile_default_depends_on_cuda(monkeypatch):
    monkeypatch.delenv(dlps.PROFILE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert dlps.get_profile() == "laptop"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert dlps.get_profile() == "full"


@pytest.mark.parametrize("raw, parsed", [("smoke", "smoke"), (" Laptop ", "laptop"),
                                         ("FULL", "full"), ("", "laptop")])
def test_profile_parsing(monkeypatch, no_accelerator, raw, parsed):
    monkeypatch.setenv(dlps.PROFILE_ENV, raw)
    assert dlps.get_profile() == parsed


@pytest.mark.parametrize("bad", ["fast", "gpu", "smoke,laptop", "0"])
def test_profile_rejects_bad_values(monkeypatch, bad):
    monkeypatch.setenv(dlps.PROFILE_ENV, bad)
    with pytest.raises(ValueError, match="is not a profile") as err:
        dlps.get_profile()
    assert repr(bad) in str(err.value)


def test_by_profile(monkeypatch):
    monkeypatch.setenv(dlps.PROFILE_ENV, "smoke")
    assert dlps.by_profile(smoke=1, laptop=10, full=100) == 1
    assert dlps.by_profile(smoke=1, laptop=10, full=100, profile="full") == 100
    with pytest.raises(TypeError):
        dlps.by_profile(smoke=1, laptop=10)  # every profile must be given a value


def test_seed_everything_repeats_all_generators():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    dlps.seed_everything(123)
    first = draw()
    dlps.seed_everything(123)
    assert draw() == first
    dlps.seed_everything(124)
    assert draw() != first


def test_show_setup_reports_profile_and_device(monkeypatch, no_accelerator, capsys):
    monkeypatch.setenv(dlps.PROFILE_ENV, "smoke")
    profile, device = dlps.show_setup(seed=1)
    out = capsys.readouterr().out
    assert (profile, device.type) == ("smoke", "cpu")
    assert "Profile: smoke" in out and "Using device: cpu" in out


def lesson_headings() -> dict[int, set[str]]:
    """Lesson number -> the text of every heading in that lesson's MyST source."""
    import re

    from layout import notebooks

    headings = {}
    for path in notebooks(["lessons"]):
        if not path.name[:2].isdigit():     # an appendix: no lesson number
            continue
        number = int(path.name[:2])
        headings[number] = {m.group(1).strip().replace("`", "")
                            for m in re.finditer(r"^#{1,6} (.+)$", path.read_text(), re.M)}
    return headings


def test_every_lesson_reference_in_dlps_names_a_real_heading():
    """Docstrings cite the section that teaches each helper as: Lesson N, section "Heading"."""
    import inspect
    import re

    import dlps.data
    import dlps.ising
    import dlps.training

    headings = lesson_headings()
    references = []
    for module in (dlps, dlps.data, dlps.training, dlps.runlog, dlps.ising):
        for name, member in [(module.__name__, module)] + inspect.getmembers(module):
            doc = inspect.getdoc(member) if callable(member) or member is module else None
            for number, section in re.findall(r'Lesson (\d+), section\s+"([^"]+)"', doc or ""):
                references.append((name, int(number), section.replace("`", "")))
    assert len(references) >= 10, references
    for name, number, section in references:
        assert section in headings.get(number, set()), (
            f'{name} cites Lesson {number}, section "{section}", which has no such heading')


def test_every_public_helper_names_the_lesson_that_teaches_it():
    import inspect

    for name in ("get_device", "seed_everything", "get_profile", "by_profile", "glue",
                 "record_run", "count_parameters", "amp_dtype", "autocast", "grad_scaler",
                 "predict", "evaluate", "fit"):
        assert 'section "' in inspect.getdoc(getattr(dlps, name)), name


def test_glue_prints_outside_the_book(monkeypatch, capsys):
    monkeypatch.delenv(dlps.BOOK_BUILD_ENV, raising=False)
    dlps.glue("test_accuracy", 0.912345)
    assert capsys.readouterr().out == "test_accuracy = 0.9123\n"


def test_glue_hands_the_book_plain_numbers(monkeypatch):
    """NumPy 2 scalars and 0-d tensors reach MyST-NB as plain floats its formats can read."""
    import numpy as np

    glued = {}
    monkeypatch.setenv(dlps.BOOK_BUILD_ENV, "1")
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display: glued.update({name: value}))
    dlps.glue("from_numpy", np.float64(36.17))
    dlps.glue("from_torch", torch.tensor(0.5))
    assert glued == {"from_numpy": 36.17, "from_torch": 0.5}
    assert all(type(v) is float for v in glued.values())


def test_fit_keeps_the_best_validation_weights_and_stops_early():
    """A learnable toy task: fit restores the weights of its best validation epoch."""
    torch.manual_seed(0)
    X = torch.randn(512, 4)
    y = (X[:, 0] + X[:, 1] > 0).long()
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    result = dlps.fit(model, optimizer, (X[:384], y[:384]), (X[384:], y[384:]), num_epochs=30,
                      batch_size=64, patience=3, train_probe=(X[:128], y[:128]),
                      progress=False)
    history = result["history"]
    assert result["epochs_run"] == history["epoch"][-1] <= 30
    assert len(history["val_acc"]) == len(history["train_acc"]) == result["epochs_run"]
    best = history["epoch"].index(result["best_epoch"])
    assert history["val_acc"][best] == max(history["val_acc"]) == result["best_val_acc"]
    _, restored = dlps.evaluate(model, X[384:], y[384:])
    assert restored == result["best_val_acc"] and restored > 0.9
    if result["epochs_run"] < 30:        # stopped early: patience evaluations without a gain
        assert result["epochs_run"] - result["best_epoch"] == 3


def test_mixed_precision_choice_follows_the_gpu(monkeypatch):
    cuda = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))
    assert dlps.amp_dtype(cuda) == torch.float16                    # T4: fp16 + scaler
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    assert dlps.amp_dtype(cuda) == torch.bfloat16                   # H100: native bf16
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (6, 1))
    assert dlps.amp_dtype(cuda) is None                             # P100/GTX 10xx: float32
    monkeypatch.delenv(dlps.EMULATE_AMP_ENV, raising=False)
    assert dlps.amp_dtype(torch.device("cpu")) is None
    assert dlps.amp_dtype(torch.device("mps")) is None
    assert not dlps.grad_scaler(torch.device("cpu")).is_enabled()


def test_the_suite_can_emulate_a_bfloat16_gpu_on_the_cpu(monkeypatch):
    """DLPS_EMULATE_AMP=1 (tests only) gives the CPU bfloat16 autocast, without a scaler."""
    cpu = torch.device("cpu")
    monkeypatch.setenv(dlps.EMULATE_AMP_ENV, "1")
    assert dlps.amp_dtype(cpu) == torch.bfloat16
    assert not dlps.grad_scaler(cpu).is_enabled()
    layer = torch.nn.Linear(8, 8)
    with dlps.autocast(cpu):
        assert layer(torch.randn(2, 8)).dtype == torch.bfloat16
    monkeypatch.setenv(dlps.EMULATE_AMP_ENV, "0")
    assert dlps.amp_dtype(cpu) is None


def test_predictions_and_accuracy_come_from_one_precision_path(monkeypatch):
    """Under bfloat16 autocast, the logits behind evaluate's accuracy are predict's logits,
    and they differ from a float32 forward pass (the Lesson 4 crash on an H200)."""
    monkeypatch.setenv(dlps.EMULATE_AMP_ENV, "1")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(),
                                torch.nn.Linear(64, 10))
    X, y = torch.randn(3000, 16), torch.randint(0, 10, (3000,))
    logits = dlps.predict(model, X, batch_size=256)
    assert logits.dtype == torch.float32 and logits.shape == (3000, 10)
    loss, accuracy = dlps.evaluate(model, X, y, batch_size=512)
    assert accuracy == (logits.argmax(dim=1) == y).sum().item() / len(y)
    assert abs(loss - torch.nn.functional.cross_entropy(logits, y).item()) < 1e-5
    with torch.no_grad():
        full_precision = model(X)
    assert not torch.equal(full_precision, logits)       # bf16 really was in use
    assert (full_precision.argmax(dim=1) != logits.argmax(dim=1)).any()
