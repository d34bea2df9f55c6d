"""patches-check: the recipe's series against a scratch copy of the pinned source, patch by patch."""

from __future__ import annotations

from pathlib import Path

from tlkit.wheel.pipeline import BuildInput, make_plan
from tlkit.wheel.sources import fetch_source
from tlkit.wheel.tree import PatchOutcome, check_series, scratch_tree


def check_recipe_series(given: BuildInput, log=print) -> list[PatchOutcome]:
    plan = make_plan(given)
    fetched = fetch_source(plan.recipe.source, plan.cache, log)
    with scratch_tree(fetched, plan.recipe.source_date_epoch) as tmp:
        return check_series(Path(tmp) / "src", plan.series, plan.recipe.source_date_epoch)


def format_outcomes(recipe_name: str, outcomes: list[PatchOutcome]) -> str:
    if not outcomes:
        return f"{recipe_name}: the series is empty"
    width = max(len(o.patch.name) for o in outcomes)
    lines = [f"{recipe_name}: {len(outcomes)} patch(es)"]
    for o in outcomes:
        detail = f"  ({o.detail})" if o.detail else ""
        lines.append(f"  {o.patch.name:<{width}}  {o.status}{detail}")
    return "\n".join(lines)
