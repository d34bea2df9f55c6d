"""The wheel: a recipe read (recipe.py), its pinned sources fetched (sources.py) and patched (series.py,
tree.py), the CUDA toolchain from PyPI (toolchain.py), the PEP 517 build in its own venv (buildenv.py,
build.py) with a compile cache (compilecache.py) and a progress line (progress.py), repaired and finished
(repair.py, wheelfile.py, provenance.py); pipeline.py plans and runs those steps, cross/ builds for another
arch. The patch series' own commands: patchcheck.py, patchexport.py."""
