"""What every product of the kit stands on: errors, the kit's paths, the TOML reader, the table printer, the
machine's size, cache entries, redaction, locks and process lifetime (procs). Imports no product (wheel,
verify, diagnose, upstream). `procs` imports only the standard library: verify's venv-side code imports it
inside the environment under test."""
