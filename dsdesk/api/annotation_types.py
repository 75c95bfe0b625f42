"""Dataloop's annotation enums: ``dd.AnnotationType`` (``box``, ``point`` ...) and
``dd.AnnotationStatus`` (an annotation's review state).  String enums, so
``annotation.type == dd.AnnotationType.BOX`` holds for the stored text."""

from __future__ import annotations

from enum import StrEnum


class AnnotationType(StrEnum):
    BOX = "box"
    CLASSIFICATION = "class"
    COMPARISON = "comparison"
    CUBE = "cube"
    CUBE3D = "cube_3d"
    DESCRIPTION = "item_description"
    ELLIPSE = "ellipse"
    GIS = "gis"
    NOTE = "note"
    POINT = "point"
    POLYGON = "segment"
    POLYLINE = "polyline"
    POLYLINE_3D = "polyline_3d"
    POSE = "pose"
    REF_IMAGE = "ref_image"
    REF_SEMANTIC_3D = "ref_semantic_3d"
    SEGMENTATION = "binary"
    SUBTITLE = "subtitle"
    TEXT = "text_mark"
    FREE_TEXT = "text"


class AnnotationStatus(StrEnum):
    ISSUE = "issue"
    APPROVED = "approved"
    REVIEW = "review"
    CLEAR = "clear"
