"""Code that runs inside the environment under test (the venv or --site folders holding the TileLang being
verified), started as `python -m tlkit.verify.subject.<worker>` with the folder holding `tlkit` on PYTHONPATH.
Standard library, TileLang and torch only: never the kit's own dependencies (of the kit itself, only
`tlkit.base.procs`, which is standard library too). aarch64_import_compile.py is run by path, by the target's
python3 under qemu-user (verify-aarch64)."""
