"""Issue 17, sm_120 fit: the sparse_attn variants of verify/variants.toml that fit sm_120's shared memory.

The default suite reads the kernel module's factory signature with `ast` (no TileLang needed) and checks that
the variant table only passes arguments the factory takes, and that the defaults are the model's (64 KV rows,
2 stages), so every variant that does not set them keeps its saved source. The slow test compiles the fit
variants with the kit wheel for sm_120 and sm_121a and checks that each launches within the limit."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tlkit.verify.variants import load_variants

KIT = Path(__file__).resolve().parents[1]
KERNELS = KIT / "verify" / "kernels.py"
VARIANTS = KIT / "verify" / "variants.toml"
FIT = ("block", "num_stages")  # the arguments the sm_120 fit adds to the model's (h, d, scale)


def _default(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except ValueError:  # a module constant such as BF16: its spelling is enough here
        return ast.unparse(node)


def factory_parameters(path: Path, name: str) -> dict[str, object]:
    """Parameter name -> default (... when it has none) of a top-level function, read from the source."""
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            args = node.args.args
            defaults = [...] * (len(args) - len(node.args.defaults)) + [_default(d) for d in node.args.defaults]
            return {a.arg: d for a, d in zip(args, defaults, strict=True)}
    raise LookupError(f"{path}: no function {name}")


def test_sparse_attn_takes_the_kv_block_and_stage_count_with_the_models_defaults():
    params = factory_parameters(KERNELS, "sparse_attn_kernel")
    assert params == {"h": ..., "d": ..., "scale": None, "block": 64, "num_stages": 2}


def test_every_variant_passes_only_arguments_its_factory_takes():
    for v in load_variants(VARIANTS):
        params = factory_parameters(KERNELS, v.kernel)
        assert set(v.kwargs) <= set(params), (v.name, sorted(set(v.kwargs) - set(params)))
        missing = {p for p, default in params.items() if default is ... and p not in v.kwargs}
        assert not missing, (v.name, missing)


def test_the_fit_variants_are_the_documented_ones_and_the_model_variants_keep_their_names():
    """32 heads: the largest KV block that fits is 32 rows; 64 heads: 16 rows (with the model's 2 stages and
    with GB10's 1). The model's own variants name no fit argument, so their names and saved sources stay."""
    attn = [v for v in load_variants(VARIANTS) if v.kernel == "sparse_attn_kernel"]
    fit = sorted((v.kwargs["h"], v.kwargs["block"], v.kwargs.get("num_stages", 2)) for v in attn
                 if set(FIT) & set(v.kwargs))
    assert fit == [(32, 32, 2), (64, 16, 1), (64, 16, 2)]
    model = sorted(v.name for v in attn if not set(FIT) & set(v.kwargs))
    assert model == [f"sparse_attn[d=512,h={h},scale=0.044194173824159216]" for h in (16, 32, 64)]


@pytest.mark.slow
def test_the_fit_variants_launch_on_sm_120_and_sm_121a_with_the_kit_wheel(wheel, tmp_path):
    """Compiled by verify-sm120 with the kit wheel (patch 0001 refuses a kernel over the limit at compile time):
    each fit variant is ok on both targets, with the dynamic shared memory docs/sm120-fit.md records."""
    reports = tmp_path / "reports"
    cmd = [sys.executable, "-m", "tlkit", "verify-sm120", "--wheel", str(wheel), "--only", r"sparse_attn\[block=",
           "--targets", "sm_120,sm_121a", "--reports", str(reports)]
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TLKIT_ROOT": str(KIT)},
                         timeout=1800)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (doc,) = [json.loads(p.read_text()) for p in reports.glob("*/verify.json")]
    got = {(r["variant"], r["target"]): r for r in doc["results"]}
    expected = {"sparse_attn[block=16,d=512,h=64,scale=0.044194173824159216]": 86016,
                "sparse_attn[block=16,d=512,h=64,num_stages=1,scale=0.044194173824159216]": 86016,
                "sparse_attn[block=32,d=512,h=32,scale=0.044194173824159216]": 69632}
    assert {variant for variant, _ in got} == set(expected)
    for (variant, target), r in got.items():
        assert r["status"] == "ok", (variant, target, r.get("message"))
        assert r["dynamic_smem"] == expected[variant], (variant, target)
