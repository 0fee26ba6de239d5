"""The course runs where learners are: supported Pythons, wheels, JupyterLab, Colab, Apple MPS.

* Python versions: one list (the Makefile's SUPPORTED_PYTHONS) that README, setup page and
  pyproject.toml state, and that `make env` enforces with one message.
* Wheels: tools/check_wheels.py (run for every supported Python by .ci/run) fails on a pin that
  has no wheel; its marker environment is the target's, not this machine's.
* JupyterLab: the server of `make env` opens a MyST lesson as a notebook and runs it; the profile
  can be chosen inside the notebook with %env.
* Colab: every import of every notebook is either in Colab or installed by its setup cell (the
  full run is `make colab-test`, tools/colab_emulation.py).
* Apple silicon: no notebook lets a float64 tensor reach an accelerator (tools/float64_scan.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import check_wheels
import export_notebooks
import float64_scan
import layout
import pytest

ROOT = layout.ROOT
SUPPORTED = ["3.11", "3.12", "3.13", "3.14"]


def makefile_pythons() -> list[str]:
    match = re.search(r"^SUPPORTED_PYTHONS\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(),
                      flags=re.M)
    return match.group(1).split()


# ----------------------------------------------------------------------------- Pythons
def test_supported_pythons_are_stated_once_and_everywhere():
    assert makefile_pythons() == SUPPORTED
    stated = "Python 3.11 to 3.14"
    for page in ("README.md", "setup.md"):
        text = (ROOT / page).read_text()
        assert stated in text, f"{page} must say which Pythons are supported ({stated})"
        assert "3.10 or newer" not in text and "≥ 3.10" not in text
    assert 'requires-python = ">=3.11"' in (ROOT / "pyproject.toml").read_text()


def unsupported_python() -> str | None:
    """An interpreter of this machine that the course does not support (3.10 or older)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in sorted(pyenv.glob("3.1[0-9]*/bin/python3")) + sorted(
            pyenv.glob("3.[0-9].*/bin/python3")):
        version = subprocess.run([str(candidate), "-c", "import sys; print(sys.version_info[1])"],
                                 capture_output=True, text=True).stdout.strip()
        if version.isdigit() and int(version) < 11:
            return str(candidate)
    return None


def test_make_env_stops_with_one_message_on_an_unsupported_python(tmp_path):
    python = unsupported_python()
    if python is None:
        pytest.skip("no Python older than 3.11 on this machine to try `make env` with")
    venv = tmp_path / "venv"
    result = subprocess.run(["make", "-C", str(ROOT), "env", f"PYTHON={python}", f"VENV={venv}"],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "the course needs Python 3.11, 3.12, 3.13 or 3.14" in result.stderr, result.stderr
    assert not venv.exists(), "the check must come before anything is created"
    # One clear message: the two lines of the guard and make's own error line, nothing else.
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) <= 3, result.stderr


def test_ci_runs_the_platform_checks():
    ci = (ROOT / ".ci" / "run").read_text()
    for step in ("make check-wheels", "make test", "make colab-test"):
        assert re.search(rf"^\s*{step}\s*$", ci, flags=re.M), f".ci/run must run {step}"
    assert "cifar10-jpeg" in ci and "DLPS_MIRROR" in ci


# ----------------------------------------------------------------------------- wheels
def test_wheel_check_evaluates_markers_for_the_target_machine():
    from pip._vendor.packaging.markers import Marker

    mac = check_wheels.marker_environment("3.14", "macos-arm64")
    linux = check_wheels.marker_environment("3.11", "linux-x86_64")
    cuda_only = Marker('platform_system == "Linux" and platform_machine == "x86_64"')
    assert cuda_only.evaluate(linux) and not cuda_only.evaluate(mac)
    old_pythons = Marker('python_version < "3.12"')
    assert old_pythons.evaluate(linux) and not old_pythons.evaluate(mac)
    assert set(check_wheels.PLATFORMS) == {"linux-x86_64", "macos-arm64"}


def pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


def test_wheel_check_fails_on_a_pin_without_wheels(tmp_path):
    """numpy 1.26.4 (the old pin) has no wheel for Python 3.13; numpy 2.4.6 has."""
    if not pypi_reachable():
        pytest.skip("PyPI is not reachable from here")
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text("numpy==1.26.4\n")
    new.write_text("numpy==2.4.6\n")
    report = tmp_path / "report.json"
    assert check_wheels.main(["3.13", "--requirements", str(old), "--json", str(report)]) == 1
    failed = json.loads(report.read_text())
    assert all(not r["ok"] and "numpy" in r["error"] for r in failed)
    assert check_wheels.main(["3.13", "--requirements", str(new)]) == 0


# ----------------------------------------------------------------------------- Colab
def test_every_notebook_import_is_in_colab_or_installed_by_the_setup_cell():
    colab_has = {"torch", "torchvision", "numpy", "pandas", "sklearn", "matplotlib", "seaborn",
                 "tqdm", "ipywidgets", "scipy", "PIL", "IPython"}
    for path in layout.notebooks():
        import jupytext

        code = "\n".join(c.source for c in jupytext.read(path).cells if c.cell_type == "code")
        imported = set(re.findall(r"^\s*(?:from|import)\s+(\w+)", code, flags=re.M))
        setup = export_notebooks.colab_cell(path.read_text()).source
        for name in imported - colab_has - set(sys.stdlib_module_names) - {"dlps"}:
            assert name in export_notebooks.COLAB_MISSING, (
                f"{path.name} imports {name}, which Colab lacks and the setup cell does not "
                "install (add it to COLAB_MISSING in tools/export_notebooks.py)")
            assert export_notebooks.pins()[export_notebooks.COLAB_MISSING[name]] in setup


# ----------------------------------------------------------------------------- Apple MPS
PLANTED = {
    "double, then to the device": ["x = torch.randn(3).double()", "x = x.to(device)"],
    "from_numpy of float64": ["t = torch.from_numpy(np.linspace(0, 1, 5))\nt.to(device)"],
    "float64 factory on the device": ["w = torch.zeros(3, dtype=torch.float64, device=device)"],
    "tensor of a NumPy array on the device": ["torch.tensor(np.random.rand(4), device=device)"],
    "a float64 model": ["model = nn.Linear(2, 1).double()", "model.to(device)"],
    "double of a device tensor": ["h = torch.ones(2).to(device)\nh = h.double()"],
    "float64 dtype in to()": ["y = torch.ones(2).to(device, torch.float64)"],
    "float64 batches": ["X = np.random.randn(10, 3)\n"
                        "loader = DataLoader(TensorDataset(torch.from_numpy(X)), batch_size=2)",
                        "for (xb,) in loader:\n    xb = xb.to(device)"],
    "float64 default dtype": ["torch.set_default_dtype(torch.float64)"],
    "float64 to dlps.fit": ["dlps.fit(model, torch.from_numpy(np.zeros((3, 2))))"],
    "a helper that moves": ["def to_device(a):\n    return torch.from_numpy(a).to(device)",
                            "to_device(np.linspace(0, 1, 3))"],
    "ASE energies via cuda()": ["E = np.array([atoms.get_potential_energy()])",
                                "torch.as_tensor(E).cuda()"],
    "split keeps float64": ["X32 = np.zeros((10, 2)).astype(np.float32)\n"
                            "a, a_test, b, b_test = train_test_split(X32, np.linspace(0, 1, 10))",
                            "torch.from_numpy(b).to(device)"],
    "a returned tuple's float64 item": [
        "def prepare(a):\n    return torch.as_tensor(a, dtype=torch.float32), a.mean(axis=0)",
        "data, mean = prepare(np.random.rand(4, 2))",
        "torch.as_tensor(mean).to(device)"],
}
SAFE = {
    "a returned tuple's float32 item": [
        "def prepare(a):\n    return torch.as_tensor(a, dtype=torch.float32), a.mean(axis=0)",
        "data, mean = prepare(np.random.rand(4, 2))",
        "data.to(device)"],
    "float() first": ["torch.from_numpy(np.linspace(0, 1, 5)).float().to(device)"],
    "float32 dtype": ["torch.as_tensor(np.random.rand(3), dtype=torch.float32, device=device)"],
    "float64 on the CPU": ["x = torch.randn(3)\nfd = (x.double() * 2).sum()"],
    "astype float32": ["arr = np.linspace(0, 1, 5).astype(np.float32)",
                       "torch.from_numpy(arr).to(device)"],
    "back to the CPU first": ["y = model(x.to(device)).cpu().double()"],
    "integer indices": ["idx = np.arange(10)\ntorch.as_tensor(idx, device=device)"],
    "split keeps float32": ["X32 = np.zeros((10, 2)).astype(np.float32)\n"
                            "a, a_test, b, b_test = train_test_split(X32, np.linspace(0, 1, 10))",
                            "torch.from_numpy(a).to(device)"],
    "a helper that converts": ["def as_input(a):\n"
                               "    return torch.as_tensor(a, dtype=torch.float32)",
                               "as_input(np.linspace(0, 1, 3)).to(device)"],
    "magics are skipped": ["%env DLPS_PROFILE=laptop\nx = torch.ones(2).to(device)"],
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_float64_scan_catches_a_planted_example(name):
    findings = float64_scan.scan_sources(name, PLANTED[name])
    assert findings, f"the scanner missed: {PLANTED[name]}"


@pytest.mark.parametrize("name", sorted(SAFE))
def test_float64_scan_accepts_float32_and_cpu_float64(name):
    assert float64_scan.scan_sources(name, SAFE[name]) == []


def test_no_notebook_lets_float64_reach_an_accelerator():
    paths = float64_scan.notebooks()
    assert len(paths) >= 18                     # lessons, exercises and solutions
    cells = sum(len(float64_scan.code_cells(p)) for p in paths)
    assert cells > 300                          # the scan read real code
    findings = [f for p in paths for f in float64_scan.scan(p)]
    assert not findings, "MPS has no float64; keep model tensors float32:\n" + "\n".join(
        map(str, findings))


def test_lesson_1_names_the_mps_float64_rule():
    text = (ROOT / "lessons" / "01_tensors_autograd.md").read_text()
    paragraphs = re.split(r"\n\s*\n", text)
    assert any("MPS" in p and "float64" in p and "```" not in p for p in paragraphs)


# ----------------------------------------------------------------------------- JupyterLab
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """`jupyter lab` from the course environment, headless, on a private port and config."""

    def __init__(self, tmp_path: Path):
        self.port, self.token = free_port(), uuid.uuid4().hex
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
               "JUPYTER_DATA_DIR": str(tmp_path / "data"),
               "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
        jupyter = Path(sys.executable).parent / "jupyter"
        command = [str(jupyter), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                   f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={ROOT}"]
        if os.geteuid() == 0:                    # CI containers run as root
            command.append("--allow-root")
        self.log = open(tmp_path / "lab.log", "w")
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def get(self, path: str, raw: bool = False):
        request = urllib.request.Request(self.base + path,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read().decode()
        return body if raw else json.loads(body)

    def post(self, path: str, payload: dict):
        request = urllib.request.Request(
            self.base + path, data=json.dumps(payload).encode(), method="POST",
            headers={"Authorization": f"token {self.token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read().decode())

    def wait(self, seconds=180):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("jupyter lab exited: " + Path(self.log.name).read_text())
            try:
                return self.get("/api/status")
            except OSError:
                time.sleep(1)
        raise TimeoutError("jupyter lab did not answer: " + Path(self.log.name).read_text())

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


async def run_in_kernel(server: LabServer, kernel_id: str, codes: list[str]) -> list[str]:
    """Execute each code string in the kernel over the server's websocket; return the text
    each one printed (stdout and stderr), failing on an error."""
    from tornado.websocket import websocket_connect

    url = (f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels"
           f"?token={server.token}")
    connection = await websocket_connect(url)
    session, printed = uuid.uuid4().hex, []
    for code in codes:
        msg_id = uuid.uuid4().hex
        await connection.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": session,
                       "username": "test", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
        text, replied, idle = [], False, False
        while not (replied and idle):
            message = json.loads(await asyncio.wait_for(connection.read_message(), 300))
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                text.append(content["text"])
            elif kind == "error":
                raise AssertionError(f"{content['ename']}: {content['evalue']} in:\n{code}")
            elif kind == "execute_reply":
                replied = True
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        printed.append("".join(text))
    connection.close()
    return printed


def test_jupyterlab_opens_a_lesson_as_a_notebook_and_runs_it(tmp_path):
    """`.venv/bin/jupyter lab` of `make env`: jupytext serves lessons/*.md as notebooks,
    double-clicking opens them as notebooks, and the first cell prints profile and device;
    %env before the setup cell chooses the profile."""
    import dlps

    lesson = "lessons/01_tensors_autograd.md"
    server = LabServer(tmp_path)
    try:
        server.wait()
        # jupytext's front-end extension is loaded, and .md / MyST open as notebooks
        assert "jupyterlab-jupytext" in server.get("/lab", raw=True)
        settings = server.get("/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
        viewers = settings["schema"]["properties"]["defaultViewers"]["default"]
        assert viewers.get("markdown") == viewers.get("myst") == "Jupytext Notebook", viewers
        # the contents API hands the MyST file over as a notebook
        model = server.get(f"/api/contents/{lesson}?type=notebook&content=1")
        assert model["type"] == "notebook" and model["format"] == "json"
        first_code = next(c["source"] for c in model["content"]["cells"]
                          if c["cell_type"] == "code"
                          and not layout.is_self_check(c["source"]))
        assert "dlps.show_setup" in first_code
        session = server.post("/api/sessions", {"path": lesson, "type": "notebook",
                                                "name": Path(lesson).name,
                                                "kernel": {"name": "python3"}})
        outputs = asyncio.run(run_in_kernel(server, session["kernel"]["id"], [
            first_code, "%env DLPS_PROFILE=laptop", first_code]))
    finally:
        server.stop()
    print(f"\nJupyterLab served {lesson} as a notebook; its first code cell printed:\n"
          + outputs[0] + "after %env DLPS_PROFILE=laptop it printed:\n" + outputs[2])
    expected_device = dlps.get_device(verbose=False).type
    assert re.search(r"^Profile: smoke\b", outputs[0], flags=re.M), outputs[0]
    assert re.search(rf"^Using device: {expected_device}\b", outputs[0], flags=re.M), outputs[0]
    assert re.search(r"^Profile: laptop\b", outputs[2], flags=re.M), outputs[2]


def test_gpu_estimate_on_the_setup_page_is_current():
    """The setup page's GPU table is what tools/gpu_estimate.py computes from the lessons now."""
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_estimate.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
