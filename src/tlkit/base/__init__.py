"""What every product of the kit stands on: errors, the kit's paths, the TOML reader, the table printer, the
machine and GPU probes, cache entries, redaction, locks and process lifetime (procs). Imports no product
(wheel, verify, diagnose, upstream), and only the standard library: the venv-side code of verify imports
`procs` inside the environment under test."""
