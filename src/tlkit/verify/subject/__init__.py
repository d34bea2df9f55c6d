"""Code that runs inside the environment under test (the venv or --site folders holding the TileLang being
verified), started as `python -m tlkit.verify.subject.<worker>` with the folder holding `tlkit` on PYTHONPATH.
Standard library, TileLang and torch only: never the kit's own dependencies."""
