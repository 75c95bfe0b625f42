"""The demo project: real images made with Pillow, in nested folders, with metadata and annotations.

``dsdesk demo`` builds it through the public API (the same upload path users take), so
the demo also exercises the product.  Building is idempotent: an existing demo project is
returned as it is.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from dsdesk.errors import NotFoundError

PROJECT = "demo"
LABELS = {"car": "#e6194b", "person": "#3cb44b", "bike": "#4363d8", "truck": "#f58231", "traffic_light": "#911eb4"}
FOLDERS = [("/train/city", 0.35), ("/train/highway", 0.25), ("/train/night", 0.1), ("/val", 0.15), ("/test", 0.15)]
SKIES = [((116, 166, 224), (205, 226, 245)), ((52, 73, 112), (142, 158, 191)), ((18, 24, 48), (52, 60, 92)),
         ((200, 140, 90), (245, 210, 160))]
COLORS = [(200, 40, 40), (30, 90, 180), (240, 240, 240), (40, 40, 40), (230, 180, 30), (60, 140, 70)]


def _scene(rng: random.Random, w: int, h: int, night: bool) -> tuple[Image.Image, list[dict]]:
    """A small street-like scene and the boxes of what was drawn on it."""
    top, bottom = SKIES[2] if night else rng.choice(SKIES[:2] + SKIES[3:])
    im = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(im)
    horizon = int(h * rng.uniform(0.45, 0.6))
    for y in range(horizon):
        t = y / max(horizon - 1, 1)
        d.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    road = (35, 35, 40) if night else (90, 90, 95)
    d.rectangle([0, horizon, w, h], fill=road)
    for x in range(0, w, 80):
        d.rectangle([x + 10, int(h * 0.8), x + 50, int(h * 0.82)], fill=(230, 230, 200))
    for _ in range(rng.randint(2, 6)):  # buildings on the horizon
        bw, bh = rng.randint(40, 120), rng.randint(40, horizon - 10)
        bx = rng.randint(0, w - bw)
        shade = rng.randint(60, 160) if not night else rng.randint(20, 50)
        d.rectangle([bx, horizon - bh, bx + bw, horizon], fill=(shade, shade, shade + 10))
    boxes = []
    for _ in range(rng.randint(1, 4)):
        label = rng.choices(["car", "person", "bike", "truck"], [5, 3, 1, 1])[0]
        if label in ("car", "truck"):
            bw = rng.randint(70, 150) * (2 if label == "truck" else 1) // (2 if label == "truck" else 1)
            bh = int(bw * rng.uniform(0.4, 0.6))
        elif label == "bike":
            bw, bh = rng.randint(40, 60), rng.randint(30, 45)
        else:
            bw, bh = rng.randint(18, 30), rng.randint(50, 90)
        x0 = rng.randint(0, w - bw - 1)
        y1 = rng.randint(horizon + bh // 2, h - 5)
        y0 = y1 - bh
        color = rng.choice(COLORS)
        if label in ("car", "truck"):
            d.rounded_rectangle([x0, y0 + bh // 3, x0 + bw, y1 - 8], radius=8, fill=color)
            d.rounded_rectangle([x0 + bw // 5, y0, x0 + 4 * bw // 5, y0 + bh // 2], radius=6, fill=color)
            d.rectangle([x0 + bw // 4, y0 + 4, x0 + 3 * bw // 4, y0 + bh // 3], fill=(170, 200, 230))
            for cx in (x0 + bw // 5, x0 + 4 * bw // 5):
                d.ellipse([cx - 9, y1 - 18, cx + 9, y1], fill=(20, 20, 20))
        elif label == "bike":
            d.ellipse([x0, y1 - 20, x0 + 20, y1], outline=(20, 20, 20), width=3)
            d.ellipse([x0 + bw - 20, y1 - 20, x0 + bw, y1], outline=(20, 20, 20), width=3)
            d.line([(x0 + 10, y1 - 10), (x0 + bw // 2, y0 + 5), (x0 + bw - 10, y1 - 10)], fill=color, width=3)
        else:
            d.ellipse([x0 + bw // 4, y0, x0 + 3 * bw // 4, y0 + bw // 2], fill=(230, 190, 160))
            d.rectangle([x0, y0 + bw // 2, x0 + bw, y1 - bh // 3], fill=color)
            d.rectangle([x0 + 2, y1 - bh // 3, x0 + bw - 2, y1], fill=(40, 40, 70))
        boxes.append({"type": "box", "label": label,
                      "coordinates": [{"x": x0, "y": y0, "z": 0}, {"x": x0 + bw, "y": y1, "z": 0}]})
    if night:
        im = im.filter(ImageFilter.GaussianBlur(0.6))
    return im, boxes


def make_images(folder: Path, n: int, seed: int = 7) -> list[tuple[Path, str, dict, list[dict]]]:
    """Write *n* JPEG scenes under *folder*; returns (file, remote folder, user metadata, boxes)."""
    rng = random.Random(seed)
    out = []
    dirs, weights = zip(*FOLDERS, strict=True)
    for i in range(n):
        remote = rng.choices(dirs, weights)[0]
        night = remote.endswith("night")
        w, h = rng.choice([(640, 480), (800, 600), (640, 360)])
        im, boxes = _scene(rng, w, h, night)
        local_dir = folder / remote.strip("/")
        local_dir.mkdir(parents=True, exist_ok=True)
        path = local_dir / f"frame_{i:05d}.jpg"
        im.save(path, "JPEG", quality=85)
        meta = {"split": remote.split("/")[1], "camera": rng.choice(["cam1", "cam2", "dashcam"]),
                "weather": "night" if night else rng.choice(["sunny", "cloudy", "rain"]),
                "score": round(rng.random(), 3), "reviewed": rng.random() < 0.3}
        out.append((path, remote, meta, boxes))
    return out


def build_demo(cat, n_images: int = 240, on_event=None):
    """Create (or return) the demo project with a ``cars`` dataset of *n_images* real images.

    About half the images carry box annotations and a classification; an empty folder
    ``/incoming`` shows that empty folders live.
    """
    try:
        return cat.projects.get(project_name=PROJECT)
    except NotFoundError:
        pass
    project = cat.projects.create(PROJECT, description="Street scenes made with Pillow")
    ds = project.datasets.create("cars", labels=LABELS, description="Synthetic street scenes")
    ds.metadata["user"].update({"owner": "vision-team", "source": "dsdesk demo", "stats": {"f1": 0.81}})
    ds.update()
    with tempfile.TemporaryDirectory(prefix="dsdesk-demo-") as tmp:
        files = make_images(Path(tmp), n_images)
        items = ds.items.upload(local_path=str(Path(tmp)) + "/*", remote_path="/", on_event=on_event)
        by_path = {it.filename: it for it in items}
        rng = random.Random(11)
        for path, remote, meta, boxes in files:
            item = by_path[f"{remote}/{path.name}"]
            item.metadata["user"].update(meta)
            item.update()
            if rng.random() < 0.5:
                anns = boxes + [{"type": "class", "label": "traffic_light" if rng.random() < 0.2 else boxes[0]["label"]}]
                item.annotations.upload(anns)
    ds.items.make_dir("/incoming")
    ds.snapshot("as-generated", description="the demo as it was built")
    golden = ds.clone(clone_name="cars-golden", filters={"filter": {"metadata.user.reviewed": True}})
    golden.metadata["user"].update({"owner": "vision-team", "purpose": "reviewed frames only"})
    golden.update()
    small = project.datasets.create("pedestrians", labels=["person", "bike"], description="A second master")
    small.metadata["user"].update({"owner": "safety-team", "stats": {"f1": 0.64}})
    small.update()
    _synced_folder(cat, project, n=max(6, n_images // 10), on_event=on_event)
    return project


def _synced_folder(cat, project, n: int, on_event=None):
    """A local folder beside the catalog, mapped by a 'local' driver and synced into a dataset."""
    root = Path(cat.db.blob_root).parent / "demo-bucket"
    make_images(root / "captures", n, seed=23)
    (root / "captures" / "empty-folder").mkdir(parents=True, exist_ok=True)
    driver = project.drivers.create("demo-folder", driver_type="local", bucket_name=str(root), path="captures")
    ds = project.datasets.create("field-captures", driver=driver, labels=LABELS,
                                 description="A local folder synced as external storage")
    ds.sync(on_event=on_event)
    return ds
