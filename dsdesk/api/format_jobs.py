"""The job bodies of annotation import and export (built by :mod:`dsdesk.api.jobs`).

An import reads and checks every file first (a bad one fails the job before anything is
written), uploads the images of a folder that ships them (a COCO or YOLO dataset as it
comes), matches entries to items, writes all the annotations through the bulk upload in
one transaction and then adds the labels the recipe lacked.  An export is
:func:`dsdesk.formats.exporting.export_dataset`.  Both return their report.
"""

from __future__ import annotations

from sqlalchemy import select

from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.formats.model import ExportReport, ImportReport


def formats() -> list[tuple[str, str]]:
    """``(name, label)`` of every annotation format, for the CLI's choices and the dialog."""
    from dsdesk.formats import REGISTRY

    return [(m.NAME, m.LABEL) for m in REGISTRY.values()]


def import_annotations_job(ctx, dataset_id: int, path: str, fmt: str, skip_bad: bool = False,
                           with_images: bool = True) -> ImportReport:
    """Job: import the annotations at *path* (a file or a folder) in format *fmt* into
    dataset *dataset_id*; with *with_images*, a folder's images are uploaded first."""
    from dsdesk.api.annotation_upload import recipe_tags, upload
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.recipes import add_labels
    from dsdesk.catalog.guards import writable_dataset
    from dsdesk.formats import importing

    db = ctx.db
    with db.session() as s:
        writable_dataset(s, dataset_id, "import annotations into")
    ctx.progress(0, None, f"reading {path}")
    parsed = importing.read(path, fmt, skip_bad)
    ctx.check_cancelled()
    uploaded = 0
    root = importing.image_root(path, fmt) if with_images else None
    if root is not None:
        from dsdesk.transfer.upload import upload_paths_job

        uploaded = len(upload_paths_job(ctx, dataset_id, f"{root}/*", "/", None, list(importing.IMAGE_EXTS)))
    with db.session() as s:
        plan = importing.plan_import(s, dataset_id, parsed, fmt, recipe_tags(s, dataset_id), skip_bad)
    ctx.check_cancelled()
    n = len(plan.annotations)
    ctx.progress(0, n, f"writing {n:,} annotations")
    if n:
        annotations, plan.annotations = plan.annotations, []
        upload(Catalog(db), dataset_id, annotations, consume=True)  # one copy of a million, not two
        del annotations
    if plan.new_labels:
        with db.session(write=True) as s:
            recipe_id = s.execute(select(DatasetRow.recipe_id).where(DatasetRow.id == dataset_id)).scalar()
            if recipe_id is not None:
                add_labels(s, recipe_id, plan.new_labels)
                plan.report.labels_added = list(plan.new_labels)
    plan.report.annotations_written = n
    plan.report.images_uploaded = uploaded
    ctx.progress(n, n, f"imported {n:,} annotations")
    return plan.report


def export_job(ctx, dataset_id: int, path: str, fmt: str, filters=None, with_images: bool = False,
               link: bool = False, split_by_folder: bool = False) -> ExportReport:
    """Job: write dataset *dataset_id* (what *filters* selects) as *fmt* under *path*."""
    from dsdesk.formats.exporting import export_dataset

    return export_dataset(ctx.db, dataset_id, path, fmt, filters=filters, with_images=with_images, link=link,
                          split_by_folder=split_by_folder, progress=ctx.progress,
                          check_cancelled=ctx.check_cancelled)
