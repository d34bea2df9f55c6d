"""The package's shape (issue 26): products over one base. The base imports no product, no product imports one
that is not below it, no import cycle between modules or products, every module belongs to a product, and the
venv-side code of verify imports nothing of the kit's but the standard-library `tlkit.base.procs`. Checked on
the real tree by tools/layout_stats.py, and that checker on small trees that break each rule."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parents[1]
SRC = KIT / "src"


def _load_checker():
    spec = importlib.util.spec_from_file_location("layout_stats", KIT / "tools" / "layout_stats.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


layout = _load_checker()


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "tlkit" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_real_tree_has_no_back_arrow_and_no_cycle():
    shape = layout.measure(layout.read_tree(SRC))
    assert layout.problems(shape) == []
    assert shape.unplaced == [], "every module belongs to the base, a product or the entry point"
    assert shape.arrows, "the checker read the imports"


def test_a_base_module_that_imports_a_product_is_named_with_its_file_and_import(tmp_path):
    root = _tree(tmp_path, {
        "__init__.py": "",
        "base/__init__.py": "",
        "base/paths.py": "import os\n\nfrom tlkit.wheel.recipe import load_recipe\n",
        "wheel/__init__.py": "",
        "wheel/recipe.py": "from tlkit.base import paths\n\ndef load_recipe():\n    return paths\n",
    })
    found = layout.problems(layout.measure(layout.read_tree(root)))
    base_file = str(root / "tlkit" / "base" / "paths.py")
    assert f"{base_file}:3: tlkit.base.paths imports tlkit.wheel.recipe, which is not below it" in found
    assert any("cycle between modules: tlkit.base.paths <-> tlkit.wheel.recipe" in line for line in found), found
    assert any("cycle between products: base <-> wheel" in line for line in found), found


def test_a_lazy_import_between_products_of_one_layer_is_a_back_arrow(tmp_path):
    root = _tree(tmp_path, {
        "verify/__init__.py": "",
        "verify/doctor.py": "def run():\n    from tlkit.diagnose import procfs\n    return procfs\n",
        "diagnose/__init__.py": "",
        "diagnose/procfs.py": "",
    })
    found = layout.problems(layout.measure(layout.read_tree(root)))
    assert found == [f"{root / 'tlkit' / 'verify' / 'doctor.py'}:2: tlkit.verify.doctor imports tlkit.diagnose.procfs, "
                     "which is not below it"]


def test_a_cycle_inside_one_product_is_named(tmp_path):
    root = _tree(tmp_path, {
        "wheel/__init__.py": "",
        "wheel/tree.py": "from . import series\n",
        "wheel/series.py": "from tlkit.wheel.tree import apply\n",
    })
    found = layout.problems(layout.measure(layout.read_tree(root)))
    assert found == ["import cycle between modules: tlkit.wheel.series <-> tlkit.wheel.tree"]


def _imports(path: Path, package: str = "") -> list[tuple[str, int]]:
    """Every module or name `path` imports, absolute: `from a import b` gives `a.b` (b may be a module), and a
    relative import is resolved against `package`, the importing module's package."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            out += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return out


VENV_SIDE = sorted((SRC / "tlkit" / "verify" / "subject").glob("*.py"))


@pytest.mark.parametrize("path", VENV_SIDE, ids=[p.name for p in VENV_SIDE])
def test_venv_side_code_imports_of_the_kit_only_itself_and_procs(path):
    """It runs inside the environment under test, which holds TileLang and torch but none of the kit's
    dependencies: of the kit, only the subject package and the standard-library tlkit.base.procs."""
    for name, line in _imports(path, "tlkit.verify.subject"):
        if name.split(".")[0] == "tlkit":
            assert name.startswith(("tlkit.verify.subject.", "tlkit.base.procs.")), f"{path}:{line}: imports {name}"


def test_the_venv_side_check_sees_names_taken_from_a_package_and_relative_imports(tmp_path):
    """`from tlkit.base import paths` and `from ..workers import x` are imports of the kit beyond procs."""
    bad = tmp_path / "bad.py"
    bad.write_text("from tlkit.base import paths, procs\nfrom ..workers import spawn\nfrom . import protocol\n")
    assert _imports(bad, "tlkit.verify.subject") == [
        ("tlkit.base.paths", 1), ("tlkit.base.procs", 1), ("tlkit.verify.workers.spawn", 2),
        ("tlkit.verify.subject.protocol", 3)]


def test_procs_is_standard_library_only():
    procs = SRC / "tlkit" / "base" / "procs.py"
    for name, line in _imports(procs):
        top = name.split(".")[0]
        assert top == "__future__" or top in sys.stdlib_module_names, f"{procs}:{line}: imports {name}"
