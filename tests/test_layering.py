"""The package layering, checked on the source with ``ast`` (no zerodl import needed).

Every ``import`` / ``from ... import`` in ``zerodl/`` -- at module level AND inside functions --
may name only its own package or a package of a LOWER layer (docs/architecture.md):

    core -> (functions, io) -> nn -> (optim, data) -> distributed -> callbacks -> (utils, text)
         -> train -> (keras, cli) -> tflearn

Packages in one layer are peers and may not import each other. ``_platform`` and
``_version`` import nothing of zerodl; the package root (``zerodl/__init__.py``,
``__main__.py``) sits on top. A second test finds import cycles between modules (an
import inside a function that closes a cycle counts: no function-level imports to dodge one).
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "zerodl"

# lowest first; a package may import its own modules and those of the layers before its own
LAYERS = [
    ("_platform", "_version"),
    ("core",),
    ("functions", "io"),
    ("nn",),
    ("optim", "data"),
    ("distributed",),
    ("callbacks",),
    ("utils", "text"),
    ("train",),
    ("keras", "cli"),
    ("tflearn",),  # a facade over the Keras facade
]
TOP = ("__init__", "__main__")  # the package root may import everything
LEVEL = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}


def module_name(path, root=ROOT):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_module(name, root=ROOT):
    rel = pathlib.Path(*name.split(".")[1:]) if "." in name else pathlib.Path()
    base = root / rel
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(source, name, is_package, root=ROOT):
    """``[(lineno, imported zerodl module)]`` for every import in ``source`` (all depths)."""
    package = name if is_package else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "zerodl"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "zerodl":
                continue
            for a in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{target}.{a.name}"
                out.append((node.lineno, sub if a.name != "*" and _is_module(sub, root) else target))
    return out


def package_of(module):
    """The top-level part of zerodl a module belongs to: ``zerodl.nn.linear`` -> ``nn``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def violations(name, is_package, source, root=ROOT):
    """Upward or sideways imports of one module, as readable lines."""
    own = package_of(name)
    if name.endswith("__main__") and own == "__main__":
        own = "__main__"
    if own in TOP:
        return []
    if own not in LEVEL:
        return [f"{name}: package {own!r} is not in tests/test_layering.py's LAYERS; add it"]
    bad = []
    for lineno, target in imports_of(source, name, is_package, root):
        other = package_of(target)
        if other == own:
            continue
        if other not in LEVEL or LEVEL[other] >= LEVEL[own]:
            bad.append(f"{name}:{lineno} imports {target} ({other} is not below {own})")
    return bad


def all_modules(root=ROOT):
    for path in sorted(root.rglob("*.py")):
        yield module_name(path, root), path.name == "__init__.py", path.read_text(encoding="utf-8")


def test_every_import_goes_down_the_layers():
    bad = [v for name, is_pkg, src in all_modules() for v in violations(name, is_pkg, src)]
    assert not bad, "imports against the layering (docs/architecture.md):\n" + "\n".join(bad)


def test_no_import_cycles_between_modules():
    graph = {}
    for name, is_pkg, src in all_modules():
        graph[name] = {t for _, t in imports_of(src, name, is_pkg) if t != name}
    # Tarjan's strongly connected components, iteratively
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in graph:
                    continue
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        cycles.append(sorted(comp))
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize("module, source", [
    ("zerodl.nn.module", "def fit(self):\n    from .. import train\n"),  # inside a function
    ("zerodl.io.model_file", "from ..nn import module_from_config\n"),
    ("zerodl.optim.sgd", "import zerodl.data\n"),  # peers
    ("zerodl.core.autograd", "from zerodl.functions import arithmetic\n"),
])
def test_the_check_catches_an_upward_import(module, source):
    assert violations(module, False, source), f"{source!r} in {module} should be refused"


def test_the_check_lets_downward_imports_pass():
    assert not violations("zerodl.train.api", False, "from .. import data, nn, optim\nfrom ..core import Tensor\n")
    assert not violations("zerodl.nn.model_file", False, "from ..io.safetensors_io import load\n")


def test_no_file_over_400_lines_without_a_note():
    """Small modules: a file of zerodl/ over 400 lines must say in its docstring why it is one
    file (a sentence with "400 lines" in it)."""
    long = []
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        n = text.count("\n")
        if n > 400 and "400 lines" not in (ast.get_docstring(ast.parse(text)) or ""):
            long.append(f"{path.relative_to(ROOT.parent)}: {n} lines")
    assert not long, "split these files or note why they must be one:\n" + "\n".join(long)
