"""Which packages the wheel holds (the rest of the metadata is in pyproject.toml).

Everything under `pipelines/` and `assets/`, and the top-level `sql/` folder, which the design
keeps where it is, shipped as the package `pipelines.sql`: an installed copy finds its DDL
through `importlib.resources`, wherever it is installed and whatever the working folder.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(
            include=["pipelines", "pipelines.*", "assets", "assets.*"],
            exclude=["*.__pycache__", "*.__pycache__.*"],
        ),
        "pipelines.sql",
    ],
    package_dir={"pipelines.sql": "sql"},
)
