"""Find code that could put a float64 tensor on an accelerator (Apple's MPS has no float64).

    python tools/float64_scan.py [NOTEBOOK.md ...]      (default: every lesson, exercise, solution)

On CUDA float64 is merely slow; on Apple silicon (MPS) moving a float64 tensor to the device, or
converting a tensor on the device to float64, raises an error, and the test machines (CPU, CUDA)
never see it.  This scanner reads the code cells of each MyST notebook in order, follows which
names hold float64 data and which hold tensors on the device, and reports:

* a float64 value moved to a device: ``x.double().to(device)``, ``t.to(device)`` after
  ``t = torch.from_numpy(np.linspace(...))``, ``.to(device, torch.float64)``, ``.cuda()``;
* a tensor created on a device as float64: ``torch.zeros(3, dtype=torch.float64, device=device)``;
* a tensor on the device converted to float64: ``.double()`` / ``.to(torch.float64)`` of it;
* float64 batches from a loader moved to the device, or given to ``dlps.fit``/``evaluate``;
* ``torch.set_default_dtype(torch.float64)``.

Float64 that stays on the CPU (finite-difference checks, NumPy analysis) is fine and not
reported.  The analysis is static and deliberately simple: NumPy arrays are float64 unless made
with a float32 dtype or ``.astype(np.float32)``; values it cannot see into (return values of
unknown functions, loop variables over unknown iterables) count as not float64.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("lessons", "exercises", "solutions")

F64_DTYPES = {"float64", "double"}
F32_DTYPES = {"float32", "float", "half", "float16", "bfloat16"}
TORCH_FACTORIES = {"zeros", "ones", "empty", "full", "rand", "randn", "arange", "linspace",
                   "logspace", "eye", "zeros_like", "ones_like", "empty_like", "full_like",
                   "rand_like", "randn_like", "tensor", "as_tensor", "asarray", "from_numpy"}
#: NumPy (and numpy.random / Generator) functions that make float64 arrays from scratch; other
#: NumPy functions keep the dtype of their inputs (float64 in, float64 out).
NUMPY_FLOAT = {"linspace", "logspace", "geomspace", "zeros", "ones", "empty", "full", "eye",
               "identity", "random", "rand", "randn", "normal", "uniform", "standard_normal",
               "exponential", "gamma", "beta", "pareto", "loadtxt", "genfromtxt"}
#: Methods of scientific libraries that return float64 arrays (ASE, DScribe, scikit-learn,
#: pandas).
FLOAT64_METHODS = {"get_positions", "get_forces", "get_potential_energy",
                   "get_potential_energies", "get_total_energy", "get_distances",
                   "get_all_distances", "get_velocities", "derivatives", "transform",
                   "fit_transform", "to_numpy", "predict"}
#: Methods that give a tensor/array of the same dtype and place as their receiver.
SAME_KIND = {"reshape", "view", "unsqueeze", "squeeze", "clone", "detach", "flatten", "t",
             "contiguous", "permute", "transpose", "sum", "mean", "requires_grad_", "abs",
             "sqrt", "exp", "log", "pow", "copy", "ravel", "expand", "repeat", "norm",
             "max", "min", "cumsum", "diff", "flip", "roll", "squeeze_", "unsqueeze_"}


@dataclass(frozen=True)
class Kind:
    """What the scanner knows about a value."""
    f64: bool = False        # float64 data (NumPy array, tensor or module)
    device: bool = False     # a tensor or module on the accelerator


NOTHING = Kind()


@dataclass(frozen=True)
class Summary:
    """What calling a function defined in the notebook does, from reading its body."""
    returns_f64: bool         # returns float64 even when its arguments are not
    passes_f64: bool          # returns float64 when an argument is float64
    moves_f64: bool           # moves a float64 argument to the device (or converts there)
    device: bool              # returns something on the device
    #: for a function that always returns a tuple of one length: which items are float64,
    #: with arguments that are not float64 and with float64 arguments
    items_f64: tuple[bool, ...] | None = None
    items_f64_given: tuple[bool, ...] | None = None


def _tuple_items(returns) -> tuple[bool, ...] | None:
    """Which items are float64, if every return statement gives a tuple of one length."""
    shapes = {None if items is None else len(items) for _, items in returns}
    if len(shapes) != 1 or None in shapes:
        return None
    return tuple(any(column) for column in zip(*(items for _, items in returns)))


@dataclass
class Finding:
    notebook: str
    cell: int
    line: int
    code: str
    why: str

    def __str__(self):
        return (f"{self.notebook}, code cell {self.cell}, line {self.line}: {self.why}\n"
                f"    {self.code}")


def dtype_name(node) -> str | None:
    """'float64', 'float32', ... for torch.float64 / np.float32 / float / 'float64'."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.value.id in ("torch", "np", "numpy"):
        return node.attr
    if isinstance(node, ast.Name) and node.id == "float":      # Python's float is float64
        return "float64"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def is_f64_dtype(node) -> bool:
    return dtype_name(node) in F64_DTYPES


def is_dtype(node) -> bool:
    name = dtype_name(node)
    return name is not None and (name in F64_DTYPES | F32_DTYPES
                                 or re.fullmatch(r"u?int\d*|long|bool|complex\d*", name or ""))


def is_cpu(node) -> bool:
    """A device argument that certainly means the CPU."""
    if isinstance(node, ast.Constant) and node.value == "cpu":
        return True
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "device" and node.args
            and isinstance(node.args[0], ast.Constant) and node.args[0].value == "cpu")


def keyword(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def module_of(func) -> str | None:
    """'torch', 'np', 'np.random', 'rng'... for torch.zeros, np.random.rand, rng.normal."""
    if isinstance(func, ast.Attribute):
        return ast.unparse(func.value)
    return None


class Scanner:
    def __init__(self, notebook: str):
        self.notebook = notebook
        self.names: dict[str, Kind] = {}
        self.functions: dict[str, Summary] = {}
        self.from_dlps: set[str] = set()         # names imported with `from dlps import`
        self.returns: list[list[Kind]] = []      # return values of the functions being read
        self.findings: list[Finding] = []
        self.cell = 0
        self.lines: list[str] = []

    # ------------------------------------------------------------------ reporting
    def report(self, node, why: str):
        line = getattr(node, "lineno", 1)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        self.findings.append(Finding(self.notebook, self.cell, line, code, why))

    # ------------------------------------------------------------------ statements
    def scan_cell(self, number: int, source: str):
        self.cell = number
        # IPython magics and shell escapes are not Python: blank them (keeps line numbers)
        source = "\n".join("" if re.match(r"\s*[%!]", line) else line
                           for line in source.splitlines())
        self.lines = source.splitlines()
        try:
            tree = ast.parse(source)
        except SyntaxError as err:
            self.report(err, f"cannot be parsed, so it cannot be checked ({err.msg})")
            return
        self.block(tree.body)

    def block(self, statements):
        for statement in statements:
            self.statement(statement)

    def statement(self, node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.names[node.name] = NOTHING
            self.functions[node.name] = self.summarise(node)
        elif isinstance(node, ast.ClassDef):
            outer = dict(self.names)
            self.block(node.body)
            self.names = outer
            self.names[node.name] = NOTHING
        elif isinstance(node, ast.Assign):
            kind = self.kind(node.value)
            for target in node.targets:
                self.bind(target, node.value, kind)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self.bind(node.target, node.value, self.kind(node.value))
        elif isinstance(node, ast.AugAssign):
            kind = self.kind(node.value)
            if isinstance(node.target, ast.Name):
                old = self.names.get(node.target.id, NOTHING)
                self.names[node.target.id] = Kind(old.f64 or kind.f64, old.device or kind.device)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.bind(node.target, None, self.element_kind(node.iter))
            self.block(node.body)
            self.block(node.orelse)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.kind(item.context_expr)
            self.block(node.body)
        elif isinstance(node, (ast.If, ast.While)):
            self.kind(node.test)
            self.block(node.body)
            self.block(node.orelse)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "dlps":
            self.from_dlps |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Return) and node.value is not None:
            kind = self.kind(node.value)
            items = (tuple(self.kind(e, report=False).f64 for e in node.value.elts)
                     if isinstance(node.value, ast.Tuple) else None)
            if self.returns:
                self.returns[-1].append((kind, items))
        elif isinstance(node, ast.Try):
            for part in (node.body, *[h.body for h in node.handlers], node.orelse,
                         node.finalbody):
                self.block(part)
        else:                               # Expr, Return, Assert, Raise, Delete, ...
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.kind(child)

    def summarise(self, node) -> Summary:
        """Read a function twice: with unknown arguments (reporting what it does anyway), then
        silently with float64 arguments (what it does to float64 data it is given)."""
        self.returns.append([])
        self.function(node.args, node.body)
        plain = self.returns.pop()
        saved, self.findings = self.findings, []
        self.returns.append([])
        self.function(node.args, node.body, Kind(f64=True))
        given_f64 = self.returns.pop()
        moves, self.findings = bool(self.findings), saved
        return Summary(returns_f64=any(k.f64 for k, _ in plain),
                       passes_f64=any(k.f64 for k, _ in given_f64), moves_f64=moves,
                       device=any(k.device for k, _ in plain),
                       items_f64=_tuple_items(plain), items_f64_given=_tuple_items(given_f64))

    def function(self, args: ast.arguments, body, parameters: Kind = NOTHING):
        """A function body: parameters as given; its local names stay local."""
        outer = dict(self.names)
        for arg in args.posonlyargs + args.args + args.kwonlyargs:
            self.names[arg.arg] = parameters
        for default in args.defaults + [d for d in args.kw_defaults if d is not None]:
            self.kind(default)
        if isinstance(body, list):
            self.block(body)
        else:
            self.kind(body)                 # a lambda
        self.names = outer

    def bind(self, target, value, kind: Kind):
        if (isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, ast.Call)
                and getattr(value.func, "id", getattr(value.func, "attr", "")) ==
                "train_test_split" and len(target.elts) == 2 * len(value.args)):
            # train_test_split(a, b, ...) returns a_train, a_test, b_train, b_test, ...
            for number, t in enumerate(target.elts):
                self.bind(t, None, self.kind(value.args[number // 2], report=False))
            return
        summary = (self.functions.get(value.func.id) if isinstance(value, ast.Call)
                   and isinstance(value.func, ast.Name) else None)
        if isinstance(target, (ast.Tuple, ast.List)) and summary is not None:
            given = any(self.kind(a, report=False).f64 for a in value.args)
            items = summary.items_f64_given if given else summary.items_f64
            if items is not None and len(items) == len(target.elts):
                # a notebook function returning (a, b, c): each name gets its item's kind
                for t, item_f64 in zip(target.elts, items):
                    self.bind(t, None, Kind(item_f64, kind.device))
                return
        if isinstance(target, ast.Name):
            self.names[target.id] = kind
        elif isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for t, v in zip(target.elts, value.elts):
                    self.bind(t, v, self.kind(v, report=False))
            else:
                for t in target.elts:
                    self.bind(t, None, kind)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, None, kind)

    def element_kind(self, node) -> Kind:
        """What iterating over ``node`` yields (tuples of tensors, batches of a loader)."""
        if isinstance(node, (ast.Tuple, ast.List)):
            kinds = [self.kind(e) for e in node.elts]
            return Kind(any(k.f64 for k in kinds), any(k.device for k in kinds))
        return self.kind(node)

    # ------------------------------------------------------------------ expressions
    def kind(self, node, report: bool = True) -> Kind:
        """What ``node`` evaluates to; reports the moves to a device on the way."""
        if not report:
            saved, self.findings = self.findings, []
            try:
                return self.kind(node)
            finally:
                self.findings = saved
        if isinstance(node, ast.Name):
            return self.names.get(node.id, NOTHING)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            inner = self.kind(node.value)
            if node.attr in ("shape", "dtype", "device", "ndim", "size", "is_cuda"):
                return NOTHING
            return inner
        if isinstance(node, ast.Subscript):
            self.kind(node.slice)
            return self.kind(node.value)
        if isinstance(node, ast.BinOp):
            left, right = self.kind(node.left), self.kind(node.right)
            return Kind(left.f64 or right.f64, left.device or right.device)
        if isinstance(node, ast.UnaryOp):
            return self.kind(node.operand)
        if isinstance(node, ast.IfExp):
            self.kind(node.test)
            a, b = self.kind(node.body), self.kind(node.orelse)
            return Kind(a.f64 or b.f64, a.device or b.device)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            kinds = [self.kind(e) for e in node.elts]
            return Kind(any(k.f64 for k in kinds), any(k.device for k in kinds))
        if isinstance(node, (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
            outer = dict(self.names)
            for comp in node.generators:
                self.bind(comp.target, None, self.element_kind(comp.iter))
                for condition in comp.ifs:
                    self.kind(condition)
            if isinstance(node, ast.DictComp):
                self.kind(node.key)
                result = self.kind(node.value)
            else:
                result = self.kind(node.elt)
            self.names = outer
            return result
        if isinstance(node, ast.Lambda):
            self.function(node.args, node.body)
            return NOTHING
        for child in ast.iter_child_nodes(node):       # f-strings, comparisons, dicts, ...
            if isinstance(child, ast.expr):
                self.kind(child)
        return NOTHING

    def call(self, node: ast.Call) -> Kind:
        func = node.func
        args = [self.kind(a) for a in node.args]
        for k in node.keywords:
            self.kind(k.value)
        dtype, device = keyword(node, "dtype"), keyword(node, "device")
        module = module_of(func)
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")

        if module in ("torch",) and name == "set_default_dtype" and node.args \
                and is_f64_dtype(node.args[0]):
            self.report(node, "makes float64 the default dtype: every model and tensor "
                              "would be float64, which MPS cannot hold")
            return NOTHING
        if module == "torch" and name in TORCH_FACTORIES:
            return self.torch_factory(node, name, args, dtype, device)
        if module in ("np", "numpy", "np.random", "numpy.random", "rng") \
                or (module or "").endswith("rng"):
            return self.numpy_call(node, name, args, dtype)
        given_f64 = any(a.f64 for a in args) or any(
            self.kind(k.value, report=False).f64 for k in node.keywords)
        if module == "dlps" or (module or "").startswith("dlps.") or (
                isinstance(func, ast.Name) and func.id in self.from_dlps):
            if given_f64 and name in ("fit", "evaluate"):
                self.report(node, f"gives float64 data to dlps.{name}, which moves each batch "
                                  "to the device")
            return Kind(False, name in ("fit",))
        if isinstance(func, ast.Attribute):
            return self.method(node, name, self.kind(func.value), dtype, device)
        summary = self.functions.get(name) if isinstance(func, ast.Name) else None
        if summary is not None:
            if given_f64 and summary.moves_f64:
                self.report(node, f"gives float64 data to {name}(), which moves it to the "
                                  "device")
            return Kind(summary.returns_f64 or (given_f64 and summary.passes_f64),
                        summary.device)
        # anything else (a model, TensorDataset, DataLoader): float64 in, float64 out; on the
        # device if an input is
        return Kind(given_f64, any(a.device for a in args))

    def torch_factory(self, node, name, args, dtype, device) -> Kind:
        if dtype is not None:
            f64 = is_f64_dtype(dtype)
        elif name in ("tensor", "as_tensor", "asarray", "from_numpy") and node.args:
            f64 = args[0].f64                  # NumPy float64 stays float64
        elif name.endswith("_like") and node.args:
            f64 = args[0].f64
        else:
            f64 = False                        # torch's default dtype is float32
        on_device = (device is not None and not is_cpu(device)) or (
            name.endswith("_like") and device is None and bool(args) and args[0].device)
        if f64 and on_device:
            self.report(node, "creates a float64 tensor on the device")
        return Kind(f64, on_device)

    def numpy_call(self, node, name, args, dtype) -> Kind:
        if dtype is not None:
            return Kind(is_f64_dtype(dtype), False)
        if name == "arange":
            floats = any(isinstance(a, ast.Constant) and isinstance(a.value, float)
                         for a in node.args)
            return Kind(floats or any(a.f64 for a in args), False)
        if name in ("array", "asarray") and node.args:
            literal = node.args[0]
            floats = any(isinstance(c, ast.Constant) and isinstance(c.value, float)
                         for c in ast.walk(literal))
            return Kind(floats or args[0].f64, False)
        if name in NUMPY_FLOAT:
            return Kind(True, False)
        return Kind(any(a.f64 for a in args), False)

    def method(self, node, name, receiver: Kind, dtype, device) -> Kind:
        if name == "double" or (name in ("to", "type") and self.to_dtype(node) == "f64"):
            if receiver.device or self.moves(node):
                self.report(node, "converts a tensor on the device to float64")
            return Kind(True, receiver.device or self.moves(node))
        if name in ("float", "half", "bfloat16", "int", "long", "bool"):
            return Kind(False, receiver.device)
        if name in ("to", "cuda", "mps"):
            moves = name in ("cuda", "mps") or self.moves(node)
            f64 = receiver.f64 and self.to_dtype(node) != "f32"
            if moves and f64:
                self.report(node, "moves a float64 value to the device")
            return Kind(f64, receiver.device or moves)
        if name in ("cpu", "numpy", "tolist", "item"):
            return Kind(receiver.f64, False)
        if name == "astype" and node.args:
            return Kind(is_f64_dtype(node.args[0]), False)
        if name in FLOAT64_METHODS:
            return Kind(dtype is None or is_f64_dtype(dtype), False)
        if name in SAME_KIND:
            return receiver
        return Kind(False, receiver.device)

    @staticmethod
    def to_dtype(node: ast.Call) -> str | None:
        """'f64' or 'f32' when ``.to(...)`` / ``.type(...)`` names a float dtype."""
        candidates = list(node.args) + [k.value for k in node.keywords if k.arg == "dtype"]
        for arg in candidates:
            if is_f64_dtype(arg):
                return "f64"
            if dtype_name(arg) in F32_DTYPES:
                return "f32"
        return None

    @staticmethod
    def moves(node: ast.Call) -> bool:
        """``.to(...)`` with a device argument that is not certainly the CPU."""
        device = keyword(node, "device")
        if device is not None:
            return not is_cpu(device)
        if node.func.attr != "to":
            return False
        return any(not is_dtype(arg) and not is_cpu(arg) for arg in node.args[:1])


def code_cells(path: Path) -> list[str]:
    import jupytext

    notebook = jupytext.read(path)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def scan_sources(name: str, sources: list[str]) -> list[Finding]:
    scanner = Scanner(name)
    for number, source in enumerate(sources):
        scanner.scan_cell(number, source)
    return scanner.findings


def scan(path: Path) -> list[Finding]:
    return scan_sources(str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
                        code_cells(path))


def notebooks() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).glob("[0-9]*.md"))


def main(argv=None) -> int:
    paths = [Path(p).resolve() for p in (argv if argv is not None else sys.argv[1:])]
    findings = [f for path in (paths or notebooks()) for f in scan(path)]
    for finding in findings:
        print(finding)
    print(f"{len(findings)} place(s) where float64 could reach an accelerator"
          + (" (MPS has no float64: keep model tensors float32)" if findings else ""))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
