"""Fixtures of the dtlpy snippet ports: what the snippets' own opening lines
(``dl.login()``, ``dl.projects.get(...)``, ``project.datasets.get(...)``) would have given.

Each snippet then runs as Dataloop's documentation has it, with ``import dsdesk as dl``.
The dataset holds real Pillow images at the paths the snippets name.
"""

from __future__ import annotations

import pytest

from tests.conftest import make_image

#: Item paths the ported snippets use.
PATHS = ["/your-image-file-path.jpg", "/fighting/a.jpg", "/fighting/b.jpg", "/dogs/black.jpg", "/cats/c.jpg"]


@pytest.fixture
def project(catalog):
    return catalog.projects.create("project_name")


@pytest.fixture
def dataset(project, tmp_path):
    ds = project.datasets.create("dataset_name", labels=["car", "person", "dog"])
    for p in PATHS:
        d, name = p.rsplit("/", 1)
        ds.items.upload(local_path=str(make_image(tmp_path / "src" / d.strip("/") / name, (640, 480))),
                        remote_path=d or "/")
    return ds


@pytest.fixture
def item(dataset):
    return dataset.items.get(filepath=PATHS[0])
