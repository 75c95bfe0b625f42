"""Pixel masks between COCO's run-length encoding and Dataloop's PNG ``data:`` URLs.

The RLE side is pycocotools' (compressed and uncompressed counts, polygons rasterised by
its own code), so what dsdesk writes decodes in every COCO tool.  A Dataloop mask is an
RGBA PNG whose alpha channel is the mask.
"""

from __future__ import annotations

import base64
import io
import warnings

PNG_PREFIX = "data:image/png;base64,"
#: The colour of an imported mask's pixels (the window paints masks in their label's colour).
MASK_RGB = (255, 255, 255)


def rle_to_mask(segmentation: dict, height: int, width: int):
    """The mask (a NumPy uint8 array, ``height`` x ``width``) of a COCO RLE, compressed
    (``counts`` a string) or not (``counts`` a list); ValueError when it does not decode."""
    import numpy as np
    from pycocotools import mask as mask_utils

    counts = segmentation.get("counts")
    size = segmentation.get("size") or [height, width]
    h, w = int(size[0]), int(size[1])
    if isinstance(counts, list):
        if sum(counts) != h * w or any(not isinstance(c, int) or c < 0 for c in counts):
            raise ValueError(f"the run lengths add up to {sum(counts)}, not {h}x{w} pixels")
        rle = mask_utils.frPyObjects({"size": [h, w], "counts": counts}, h, w)
    elif isinstance(counts, (str, bytes)):
        raw = counts.encode("ascii", "replace") if isinstance(counts, str) else counts
        runs = compressed_runs(raw)
        if sum(runs) != h * w or min(runs, default=0) < 0:
            raise ValueError(f"the compressed counts decode to {sum(runs)} pixels, not {h}x{w}")
        rle = {"size": [h, w], "counts": raw}
    else:
        raise ValueError("an RLE needs 'counts' (a string or a list of run lengths)")
    with warnings.catch_warnings():
        # pycocotools 2.0.x under NumPy 2 warns about np.array(copy=False) inside its decoder.
        warnings.simplefilter("ignore", DeprecationWarning)
        m = mask_utils.decode(rle)
    if m.ndim == 3:
        m = m[..., 0]
    return np.ascontiguousarray(m, dtype=np.uint8)


def compressed_runs(counts: bytes) -> list[int]:
    """The run lengths of a compressed COCO ``counts`` string.

    pycocotools' decoder does not check its input: a corrupt string decodes to whatever
    memory follows, so the import reads the runs first (the format of its ``rleFrString``:
    6-bit groups offset by 48, a continuation bit 0x20, the sign in the last group's 0x10,
    and from the third run on a delta to the run two back) and refuses counts that do not
    cover the image.  ValueError for a character outside the format.
    """
    runs: list[int] = []
    i, n = 0, len(counts)
    while i < n:
        x, k, more = 0, 0, True
        while more:
            if i >= n:
                raise ValueError("the compressed counts end inside a number")
            c = counts[i] - 48
            if not 0 <= c < 64:
                raise ValueError(f"byte {i} of the compressed counts is not part of an RLE")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            i, k = i + 1, k + 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    return runs


def mask_to_rle(mask) -> dict:
    """The compressed COCO RLE (``counts`` as text) of a 0/1 mask array."""
    import numpy as np
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode("ascii")}


def rle_area_bbox(rle: dict) -> tuple[float, list[float]]:
    """The area and ``[x, y, w, h]`` box of a compressed RLE (as :func:`mask_to_rle` gives)."""
    from pycocotools import mask as mask_utils

    r = {"size": rle["size"], "counts": rle["counts"].encode("ascii")}
    return float(mask_utils.area(r)), [float(v) for v in mask_utils.toBbox(r)]


def mask_to_png(mask) -> str:
    """A Dataloop mask ``data:`` URL: an RGBA PNG, opaque where *mask* is set."""
    from PIL import Image

    h, w = mask.shape
    alpha = Image.frombytes("L", (w, h), (mask > 0).astype("uint8").tobytes()).point(lambda v: 255 if v else 0)
    img = Image.new("RGBA", (w, h), (*MASK_RGB, 0))
    img.putalpha(alpha)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return PNG_PREFIX + base64.b64encode(buf.getvalue()).decode("ascii")


def png_to_mask(data_url: str):
    """The 0/1 mask (a NumPy uint8 array) of a Dataloop mask ``data:`` URL; ValueError for
    anything else."""
    import numpy as np
    from PIL import Image

    if not isinstance(data_url, str) or not data_url.startswith(PNG_PREFIX):
        raise ValueError("a mask must be a data:image/png;base64 URL")
    img = Image.open(io.BytesIO(base64.b64decode(data_url[len(PNG_PREFIX):])))
    alpha = img.convert("RGBA").getchannel("A")
    return (np.asarray(alpha) > 0).astype(np.uint8)
