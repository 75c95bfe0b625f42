"""Fixtures of the format tests: a dataset holding real images to attach annotations to."""

from __future__ import annotations

import pytest


@pytest.fixture
def shot_dataset(dataset, photos):
    """The ``cars`` dataset with the ``photos`` images uploaded: /a.jpg (64x48),
    /b.png (32x16), /sub/c.jpg (80x60), /sub/deeper/d.jpg (10x20)."""
    dataset.items.upload(local_path=str(photos) + "/*")
    return dataset.refresh()
