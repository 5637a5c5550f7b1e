"""The computational graph as Graphviz DOT text, and rendered to an image with ``dot``.

Call ``to_dot`` / ``plot_graph`` before ``backward()``: backward frees the graph (each
function forgets its inputs) unless it was called with ``retain_graph=True``; a freed
graph shows only the output and the function that made it.
"""
import os
import shutil
import subprocess

from ..core import Tensor

__all__ = ["to_dot", "plot_graph"]


def _quote(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tensor_node(t, verbose=True):
    parts = []
    if t.name:
        parts.append(str(t.name))
    if verbose:
        parts.append(f"{tuple(t.shape)} {t.dtype}")
    label = "\\n".join(_quote(p)[1:-1] for p in parts) or " "
    style = ', style=filled, fillcolor="#ffd8a8"' if t.creator is None and t.requires_grad else ""
    return f'  t{id(t)} [label="{label}", shape=ellipse{style}];'


def _function_node(f):
    return f'  f{id(f)} [label={_quote(f.name)}, shape=box, style=filled, fillcolor="#cfe2ff"];'


def to_dot(output, verbose=True):
    """Graphviz DOT text of the graph that made ``output`` (a Tensor, or a list of them).

    Functions are boxes (their class name: ``Add``, ``MatMul``, ``ReLU``...); tensors are
    ovals with their name (when ``t.name`` is set), shape and dtype (``verbose=False``
    leaves out shape and dtype); leaves that require grad (parameters) are filled orange.
    Edges run from inputs to functions to outputs. Call it before ``backward()`` (see the
    module's notes).
    """
    outputs = [output] if isinstance(output, Tensor) else list(output)
    lines = ["digraph zerodl {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    seen_t, seen_f = set(), set()

    def add_tensor(t):
        if id(t) not in seen_t:
            seen_t.add(id(t))
            lines.append(_tensor_node(t, verbose))

    stack = []
    for t in outputs:
        add_tensor(t)
        if t.creator is not None:
            stack.append(t.creator)
    freed = False
    while stack:
        f = stack.pop()
        if id(f) in seen_f:
            continue
        seen_f.add(id(f))
        lines.append(_function_node(f))
        for ref in f.outputs:
            o = ref()
            if o is not None:
                add_tensor(o)
                lines.append(f"  f{id(f)} -> t{id(o)};")
        if f.inputs is None:
            freed = True
            continue
        for x in f.inputs:
            add_tensor(x)
            lines.append(f"  t{id(x)} -> f{id(f)};")
            if x.creator is not None and id(x.creator) not in seen_f:
                stack.append(x.creator)
    if freed:
        lines.append(
            '  freed [label="graph freed by backward();\\ncall to_dot before it, or backward(retain_graph=True)", '
            "shape=note];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


_FORMATS = {"png", "svg", "pdf", "dot", "gv"}


def plot_graph(output, path, verbose=True):
    """Render the graph of ``output`` to ``path``; the format follows the extension
    (.png, .svg, .pdf; .dot / .gv write the DOT text). Needs Graphviz's ``dot`` program.
    Returns ``path``.
    """
    text = to_dot(output, verbose=verbose)
    ext = os.path.splitext(str(path))[1].lower().lstrip(".")
    if ext not in _FORMATS:
        raise ValueError(f"plot_graph: unknown image format {ext!r} for {path}; use .png, .svg, .pdf or .dot")
    if ext in ("dot", "gv"):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return path
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            "plot_graph: the Graphviz 'dot' program was not found; install Graphviz "
            "(apt-get install graphviz, brew install graphviz, or conda install graphviz), "
            "or use zerodl.utils.to_dot(tensor) to get the DOT text"
        )
    result = subprocess.run([exe, f"-T{ext}", "-o", str(path)], input=text.encode(), capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"plot_graph: dot failed: {result.stderr.decode(errors='replace').strip()}")
    return path
