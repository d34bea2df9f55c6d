"""The shape of src/tlkit, measured from its imports: modules at the top level, import arrows between tlkit
modules, arrows that run back up (into a product from the base or from a lower product, or between two
products of one layer), and import cycles between modules and between products.

The layers are data (LAYERS): the base under the wheel, verify and diagnose over those, upstream over wheel
and verify, the command line over everything. An older tree is judged by the same layers: its modules are
placed where git's rename detection says they live now (`--rev REV`), so "back up" means the same thing
before and after a move.

    python tools/layout_stats.py              # the working tree
    python tools/layout_stats.py --rev fa68712  # a commit, placed by its files' names at HEAD
    python tools/layout_stats.py --check      # exit 1 naming each back arrow or cycle (what the test runs)
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = "tlkit"
ENTRY = 9  # cli and __main__: the one entry point, above every product
LAYERS = {"base": 0, "wheel": 1, "verify": 2, "diagnose": 2, "upstream": 3, "entry": ENTRY}
ENTRY_MODULES = {"cli", "__main__"}  # tlkit.cli and tlkit.__main__ make up the product "entry"
KIT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Arrow:
    source: str  # importing module, dotted
    target: str  # imported module, dotted
    file: str  # the importing file, relative to the tree's top
    line: int


def module_name(rel: Path) -> str:
    """Dotted name of a file under the folder that holds the package: tlkit/a/b.py -> tlkit.a.b."""
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(name: str, modules: set[str]) -> str | None:
    """The longest prefix of `name` that is a module of the tree (a name imported from a module is no module)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def arrows_of(sources: dict[str, tuple[str, str]]) -> list[Arrow]:
    """Every import of one tree module by another, lazy ones in functions included.
    `sources`: module -> (file shown in messages, text)."""
    modules = set(sources)
    out: set[Arrow] = set()
    for module, (file, text) in sources.items():
        is_package = file.endswith("__init__.py")
        package = module if is_package else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(text, filename=file)):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[:len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                names = [f"{base}.{alias.name}" for alias in node.names]
            for name in names:
                target = _resolve(name, modules)
                if target and target != module:
                    out.add(Arrow(module, target, file, node.lineno))
    return sorted(out, key=lambda a: (a.source, a.target, a.line))


def read_tree(src: Path) -> dict[str, tuple[str, str]]:
    """module -> (file, text) for every .py under `src`/tlkit (`src`: the folder that holds the package)."""
    return {module_name(p.relative_to(src)): (str(p), p.read_text()) for p in sorted((src / ROOT).rglob("*.py"))}


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=KIT, check=True, capture_output=True, text=True).stdout


def read_rev(rev: str) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """The tree of `rev` like read_tree, and each of its modules' name at HEAD (git's rename detection)."""
    files = [f for f in _git("ls-tree", "-r", "--name-only", rev, "src/tlkit").splitlines() if f.endswith(".py")]
    sources = {module_name(Path(f).relative_to("src")): (f, _git("show", f"{rev}:{f}")) for f in files}
    now = {f: f for f in files}
    for line in _git("diff", "-M", "--name-status", rev, "HEAD", "--", "src/tlkit").splitlines():
        status, *paths = line.split("\t")
        if status.startswith("R"):
            now[paths[0]] = paths[1]
        elif status == "D":
            now[paths[0]] = ""
    placed = {module_name(Path(f).relative_to("src")): module_name(Path(n).relative_to("src")) if n else ""
              for f, n in now.items()}
    return sources, placed


def product(module: str, layers: dict[str, int]) -> str | None:
    """The product (or the base) a module belongs to: the package under tlkit it lives in; the root is its own."""
    parts = module.split(".")
    if len(parts) == 1:
        return ROOT
    if len(parts) == 2 and parts[1] in ENTRY_MODULES:
        return "entry"
    return parts[1] if parts[1] in layers else None


def rank(prod: str | None, layers: dict[str, int]) -> int | None:
    return -1 if prod == ROOT else layers.get(prod) if prod else None


def back_arrows(arrows: Iterable[Arrow], place: Callable[[str], str | None], layers: dict[str, int]) -> list[Arrow]:
    """Arrows into another product that is not below the importer's (the base imports no product; verify and
    diagnose, one layer, import neither each other)."""
    out = []
    for a in arrows:
        src, dst = place(a.source), place(a.target)
        rs, rd = rank(src, layers), rank(dst, layers)
        if src != dst and rs is not None and rd is not None and rd >= rs:
            out.append(a)
    return out


def cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected parts of more than one node (Tarjan's algorithm, iterative), each sorted."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        if a != b:
            graph.setdefault(a, set()).add(b)
            graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    part = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        part.append(top)
                        if top == node:
                            break
                    if len(part) > 1:
                        found.append(sorted(part))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return sorted(found)


@dataclass
class Shape:
    top_level: int  # .py files directly in tlkit/, its __init__ and __main__ included
    modules: int
    arrows: list[Arrow]
    back: list[Arrow]
    module_cycles: list[list[str]]
    product_cycles: list[list[str]]
    unplaced: list[str]  # modules with no product (an older tree's module that is gone now)
    between: dict[tuple[str, str], int]  # (importing product, imported product) -> arrows, across products


def measure(sources: dict[str, tuple[str, str]], placed: dict[str, str] | None = None,
            layers: dict[str, int] = LAYERS) -> Shape:
    """The shape of one tree; `placed` (module -> its name now) judges an older tree by today's layers."""
    def place(module: str) -> str | None:
        return product(placed.get(module, module) if placed is not None else module, layers)

    arrows = arrows_of(sources)
    products = [(place(a.source) or a.source, place(a.target) or a.target) for a in arrows]
    between: dict[tuple[str, str], int] = {}
    for pair in products:
        if pair[0] != pair[1]:
            between[pair] = between.get(pair, 0) + 1
    return Shape(
        top_level=sum(1 for file, _text in sources.values() if Path(file).parent.name == ROOT),
        modules=len(sources),
        arrows=arrows,
        back=back_arrows(arrows, place, layers),
        module_cycles=cycles((a.source, a.target) for a in arrows),
        product_cycles=cycles(products),
        unplaced=sorted(m for m in sources if place(m) is None),
        between=dict(sorted(between.items())),
    )


def problems(shape: Shape) -> list[str]:
    """One line per back arrow and per cycle, naming the file and the import."""
    out = [f"{a.file}:{a.line}: {a.source} imports {a.target}, which is not below it" for a in shape.back]
    out += [f"import cycle between modules: {' <-> '.join(c)}" for c in shape.module_cycles]
    out += [f"import cycle between products: {' <-> '.join(c)}" for c in shape.product_cycles]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rev", help="measure this commit instead of the working tree")
    p.add_argument("--check", action="store_true", help="exit 1 when there is a back arrow or a cycle")
    p.add_argument("-v", "--verbose", action="store_true", help="list the back arrows and the cycles")
    args = p.parse_args(argv)
    if args.rev:
        sources, placed = read_rev(args.rev)
        shape = measure(sources, placed)
    else:
        shape = measure(read_tree(KIT / "src"))
    print(f"top-level modules {shape.top_level}, modules {shape.modules}, arrows {len(shape.arrows)}, "
          f"back up {len(shape.back)}, module cycles {len(shape.module_cycles)}, "
          f"product cycles {len(shape.product_cycles)}")
    found = problems(shape)
    if args.verbose:
        print("  arrows between products: " + ", ".join(f"{a} -> {b} {n}" for (a, b), n in shape.between.items()))
    if args.verbose or args.check:
        for line in found:
            print(f"  {line}")
        if shape.unplaced:
            print(f"  not placed in a product: {', '.join(shape.unplaced)}")
    return 1 if args.check and found else 0


if __name__ == "__main__":
    sys.exit(main())
