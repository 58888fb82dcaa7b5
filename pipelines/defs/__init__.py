"""Definitions scaffolded with `dg scaffold defs ...` land here; `pipelines.definitions` loads
this folder with `dg.load_from_defs_folder` and merges it with the project's own assets."""
