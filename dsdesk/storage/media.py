"""What a binary is: mimetype and, for images, width and height (read from the header only)."""

from __future__ import annotations

import mimetypes
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

_IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp",
                "BMP": "image/bmp", "TIFF": "image/tiff"}


def guess_mimetype(name: str) -> str:
    """Mimetype from the file name, ``application/octet-stream`` when unknown."""
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def probe(stream: BinaryIO, name: str) -> dict:
    """``{"mimetype", "width", "height"}`` for *stream*; width/height are None for non-images
    and for corrupt images (a corrupt file is still stored, just not measured)."""
    mimetype = guess_mimetype(name)
    info = {"mimetype": mimetype, "width": None, "height": None}
    if not (mimetype.startswith("image/") or mimetype == "application/octet-stream"):
        return info
    try:
        with Image.open(stream) as im:  # lazy: reads the header, not the pixels
            info["width"], info["height"] = im.size
            info["mimetype"] = _IMAGE_TYPES.get(im.format or "", mimetype)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        pass
    return info
