"""Dataloop's dataset and project snippets - create, drivers, list with filters, folders,
deep copy, clone, merge, downloads, rename, delete - and the onboarding guide's item
management, run as published (``import dsdesk as dl``; see conftest for the fixtures).
Each test names its source."""
# ruff: noqa: F841

from __future__ import annotations

import pytest
from PIL import Image

import dsdesk as dl
from tests.conftest import make_image

DOCS = "https://github.com/dataloop-ai/dtlpy-documentation/blob/main/"
VERSIONING = DOCS + "tutorials/data_management/datasets_and_versioning/chapter.md"
ONBOARDING = DOCS + "onboarding/03_data_management.md"
SDK = "https://github.com/dataloop-ai/dtlpy/blob/main/dtlpy/"


def test_create_your_first_dataset(project):
    # VERSIONING, "Creating Your First Dataset"
    dataset_name = 'My Amazing Dataset'
    dataset = project.datasets.create(dataset_name=dataset_name)
    assert isinstance(dataset, dl.Dataset) and dataset.items_count == 0
    assert dl.datasets.get(dataset_id=dataset.id).name == "My Amazing Dataset"


def test_cloud_connected_dataset_on_a_named_driver(project, tmp_path, capsys):
    project.drivers.create(name="my_driver_name", driver_type="local", bucket_name=str(tmp_path / "bucket"))
    # VERSIONING, "Creating a Cloud-Connected Dataset" (a local-folder driver stands in for the bucket)
    project_name = 'project_name'
    driver = 'my_driver_name'
    dataset_name = 'my_dataset_name'
    project = dl.projects.get(project_name=project_name)
    # See available drivers
    project.drivers.list().print()
    dataset = project.datasets.create(
        driver=driver,
        dataset_name=dataset_name
    )
    assert "my_driver_name" in capsys.readouterr().out
    assert dataset.driver == project.drivers.get(driver_name="my_driver_name").id


def test_finding_datasets_with_filters(project, dataset, capsys):
    project.datasets.create(dataset_name="my dataset")
    # VERSIONING, "Finding Your Datasets"
    filters = dl.Filters(resource=dl.FiltersResource.DATASET)
    filters.add(field='name', values='my dataset')
    # List matching datasets
    datasets = project.datasets.list(filters=filters)
    datasets.print()
    out = capsys.readouterr().out.splitlines()
    assert [d.name for d in datasets] == ["my dataset"] and len(out) == 3 and "my dataset" in out[2]


def test_organizing_with_directories(dataset):
    # VERSIONING, "Organizing with Directories"
    directory = '/directory/name'
    dataset.items.make_dir(directory=directory)
    assert "/directory/name" in dataset.directory_tree.dir_names


def test_deep_copy_between_datasets(project, dataset, capsys):
    dl.projects.create(project_name="destination_project_name").datasets.create(
        dataset_name="destination_dataset_name")
    for path in ("/fighting/a.jpg", "/fighting/b.jpg"):
        dataset.items.get(filepath=path).annotations.upload([dl.Box(1, 1, 5, 5, label="car")])
    # VERSIONING, "Deep Copying Between Datasets" (the source names are the fixture's)
    src_folder = '/fighting'
    dst_folder = '/destination_folder'
    src_project_name = 'project_name'
    src_dataset_name = 'dataset_name'
    dst_project_name = 'destination_project_name'
    dst_dataset_name = 'destination_dataset_name'

    # Copy settings
    copy_annotations = True
    flat_copy = False  # Keep folder structure (False) or copy all files to root (True)

    project = dl.projects.get(project_name=src_project_name)
    dataset_from = project.datasets.get(dataset_name=src_dataset_name)

    # Set up filters for source folder
    filters = dl.Filters()
    filters.add(field='filename', values=src_folder.rstrip('/') + '/**')
    pages = dataset_from.items.list(filters=filters)

    project = dl.projects.get(project_name=dst_project_name)
    dataset_to = project.datasets.get(dataset_name=dst_dataset_name)

    # Copy files and annotations
    for page in pages:
        for item in page:
            # Download without saving to disk
            buffer = item.download(save_locally=False)

            # Set filename based on copy type
            if flat_copy:
                buffer.name = item.name
            else:
                buffer.name = item.filename[len(src_folder) + 1:]

            # Upload to destination
            print(f"Adding {buffer.name} to {dst_folder}")
            new_item = dataset_to.items.upload(
                local_path=buffer,
                remote_path=dst_folder
            )

            if not isinstance(new_item, dl.Item):
                print(f'Failed to upload {buffer.name} to {dst_folder}')
                continue

            print(f"Successfully uploaded {new_item.filename}")

            # Copy annotations if requested
            if copy_annotations:
                new_item.annotations.upload(item.annotations.list())
    out = capsys.readouterr().out
    assert "Successfully uploaded /destination_folder/a.jpg" in out and "Failed" not in out
    copied = {i.filename: [a.label for a in i.annotations.list()] for i in dataset_to.items.list().all()}
    assert copied == {"/destination_folder/a.jpg": ["car"], "/destination_folder/b.jpg": ["car"]}


def test_cloning_datasets(project, dataset):
    dataset_id_of_fixture = dataset.id
    # VERSIONING, "Cloning Datasets" (the placeholder id is the fixture's; the folder is one it has)
    dataset_id = dataset_id_of_fixture
    clone_name = 'clone-name'
    dataset = project.datasets.get(dataset_id=dataset_id)
    dataset_clone = dataset.clone(
        clone_name=clone_name,
        filters=dl.Filters(field='dir', values='/fighting'),
        with_items_annotations=True,
        with_metadata=True,
        with_task_annotations_status=True,
        target_directory='/clone-folder'
    )
    assert sorted(i.filename for i in dataset_clone.items.list().all()) == ["/clone-folder/fighting/a.jpg",
                                                                            "/clone-folder/fighting/b.jpg"]


def test_merging_datasets(project, dataset):
    first = dataset.clone(clone_name="one", filters=dl.Filters(field="dir", values="/fighting"))
    second = dataset.clone(clone_name="two", filters=dl.Filters(field="dir", values="/dogs"))
    # VERSIONING, "Merging Datasets" (the placeholder ids are the two clones')
    dataset_ids = [first.id, second.id]
    project_ids = [project.id, project.id]
    merge_name = 'my_dataset-merge'

    # Merge the datasets
    dataset_merge = dl.datasets.merge(
        merge_name=merge_name,
        project_ids=project_ids,
        dataset_ids=dataset_ids,
        with_items_annotations=True,
        with_metadata=False
    )
    assert dataset_merge.name == "my_dataset-merge" and dataset_merge.items_count == 3


def test_exporting_is_refused_with_the_alternative(project, dataset):
    # VERSIONING, "Exporting Datasets" (the placeholder ids are the fixture's): no repository
    # export; the error names what writes the same files
    filters = dl.Filters()
    # Filer for all annotated items
    filters.add(field='annotated', values=True)
    # Join by filtering a specific label on the annotations
    filters.add_join(field='label', values='car')
    project = dl.projects.get(project_id=project.id)
    with pytest.raises(dl.DsdeskError, match=r"dataset.download\(local_path, annotation_options='json'\)"):
        # Export dataset
        project.datasets.export(dataset_id=dataset.id,
                                export_type='zip',
                                export_summary=True,
                                filters=filters)


def test_download_annotations_json(dataset, tmp_path):
    dataset.items.get(filepath="/cats/c.jpg").annotations.upload([dl.Box(1, 1, 5, 5, label="car")])
    # VERSIONING, "Download Annotations" (JSON only: masks are not written)
    dataset.download(local_path=str(tmp_path / 'local_path'),
                     annotation_options=[dl.ViewAnnotationOptions.JSON],
                     overwrite=False,
                     thickness=1,
                     with_text=False,
                     alpha=1,
                     dataset_lock=True,
                     lock_timeout_sec=300
                     )
    assert '"car"' in (tmp_path / "local_path" / "json" / "cats" / "c.jpg.json").read_text()
    assert (tmp_path / "local_path" / "items" / "cats" / "c.jpg").is_file()


def test_collections_are_refused_with_the_alternative(dataset):
    # VERSIONING, "Become a Collections Master"
    with pytest.raises(dl.DsdeskError, match=r"metadata\['user'\]"):
        dataset.collections.create(name="my_collection")


def test_rename_and_delete_a_dataset(project, dataset):
    # The SDK's Dataset.update docstring ("dataset.update(system_metadata=False)") after a rename,
    # and its Datasets.delete example
    dataset.name = 'new_dataset_name'
    dataset = dataset.update()
    assert project.datasets.get(dataset_name='new_dataset_name').id == dataset.id
    project.datasets.delete(dataset_id=dataset.id, sure=True, really=True)
    with pytest.raises(dl.exceptions.NotFound):
        project.datasets.get(dataset_name='new_dataset_name')


def test_delete_needs_both_flags_when_given(project, dataset):
    # SDK + "repositories/datasets.py", Datasets.delete: sure and really must both be True
    with pytest.raises(dl.DsdeskError, match="sure=True and really=True"):
        dataset.delete(sure=True, really=False)
    assert project.datasets.get(dataset_id=dataset.id)


def test_onboarding_single_and_batch_upload(dataset, tmp_path):
    make_image(tmp_path / "path/to/image.jpg")
    for n in ("1.jpg", "2.jpg"):
        make_image(tmp_path / "path" / n)
    # ONBOARDING, "1. Single Item Upload" and "2. Batch Upload" (the paths under the test's folder)
    item = dataset.items.upload(
        local_path=str(tmp_path / 'path/to/image.jpg'),
        remote_path='/folder/in/dataset'  # Optional
    )
    items = dataset.items.upload(
        local_path=[str(tmp_path / 'path/1.jpg'), str(tmp_path / 'path/2.jpg')],
        remote_path='/batch-upload'
    )
    assert item.filename == "/folder/in/dataset/image.jpg"
    assert sorted(i.filename for i in items) == ["/batch-upload/1.jpg", "/batch-upload/2.jpg"]


def test_onboarding_item_management(dataset, item):
    item_id = item.id
    # ONBOARDING, "2. Item Management" (the placeholder id and path are the fixture's)
    item = dataset.items.get(item_id=item_id)
    item = dataset.items.get(filepath='/your-image-file-path.jpg')

    # Update item
    item.filename = '/new_name.jpg'  # The new filename must include the full path.
    item.update(True)

    # Delete items
    dataset.items.delete(filters=dl.Filters(field='dir', values='/fighting'))
    names = sorted(i.filename for i in dataset.items.list().all())
    assert names == ["/cats/c.jpg", "/dogs/black.jpg", "/new_name.jpg"]


def test_onboarding_metadata_and_bulk_download(dataset, item, tmp_path):
    # ONBOARDING, "3. Metadata Organization" (the item's part)
    item.metadata['user'] = {
        'status': 'reviewed',
        'quality': 'high',
        'tags': ['validated', 'ready']
    }
    item = item.update()
    # ONBOARDING, "1. Bulk Upload and Download" (the download)
    dataset.items.download(
        local_path=str(tmp_path / 'local/folder'),
        filters=dl.Filters(field='dir', values='/dogs')
    )
    assert dataset.items.get(item_id=item.id).metadata["user"]["tags"] == ["validated", "ready"]
    assert [p.name for p in (tmp_path / "local/folder").rglob("*.jpg")] == ["black.jpg"]


def test_onboarding_validation(dataset, capsys):
    # ONBOARDING, "1. Item Validation", "2. Batch Validation", "3. Data Integrity Checks"
    try:
        item = dataset.items.get(filepath='/path/to/item.jpg')
    except dl.exceptions.NotFound:
        print("Item not found!")

    def validate_item(item):
        required_fields = ['status', 'quality']
        metadata = item.metadata.get('user', {})
        return all(field in metadata for field in required_fields)

    def validate_items(dataset):
        invalid_items = []
        for item in dataset.items.list().all():
            if not validate_item(item):
                invalid_items.append(item.id)
        return invalid_items

    def check_image_integrity(item):
        try:
            buffer = item.download(save_locally=False)
            Image.open(buffer)
            return True
        except Exception as e:
            print(f"Corrupted image {item.name}: {e}")
            return False

    assert len(validate_items(dataset)) == 5
    assert all(check_image_integrity(i) for i in dataset.items.list().all())
    assert capsys.readouterr().out == "Item not found!\n"


def test_entities_are_the_exported_classes_and_print(project, dataset, item, capsys):
    # SDK + "__init__.py": the entity classes and module-level repositories a script type-checks against
    assert isinstance(project, dl.Project) and isinstance(dataset, dl.Dataset) and isinstance(item, dl.Item)
    assert isinstance(dataset.recipe, dl.Recipe) and isinstance(project.drivers.list()[0], dl.Driver)
    assert dl.Item.from_json(_json=item.to_json(), client_api=None, dataset=dataset) == item
    assert dl.items.get(item_id=item.id).filename == item.filename
    assert [p.name for p in dl.projects.list()] == ["project_name"]
    item.print()
    dl.projects.list().print()
    out = capsys.readouterr().out
    assert "your-image-file-path.jpg" in out and "project_name" in out


SNIPPETS = DOCS + "examples/data_management/snippets/"


def test_create_an_s3_driver(project):
    # SNIPPETS + "storage_drivers/create_storage_driver_s3.py", as published: the integration id
    # is a Dataloop one, so the error says what dsdesk takes instead
    project = dl.projects.get('project_name')
    with pytest.raises(dl.DsdeskError, match="not a credentials reference.*env:NAME, profile:NAME"):
        driver = project.drivers.create(name='driver_name',
                                        driver_type=dl.ExternalStorage.S3,
                                        integration_id='integration_id',
                                        bucket_name='bucket_name',
                                        allow_external_delete=True,
                                        region='eu-west-1',
                                        storage_class='',
                                        path='')
    # ... and with the integration replaced by where the secrets are (the default AWS chain)
    driver = project.drivers.create(name='driver_name',
                                    driver_type=dl.ExternalStorage.S3,
                                    integration_id='default',
                                    bucket_name='bucket_name',
                                    allow_external_delete=True,
                                    region='eu-west-1',
                                    storage_class='',
                                    path='')
    assert (driver.type, driver.bucket_name, driver.region, driver.allow_external_delete) == (
        "s3", "bucket_name", "eu-west-1", True)
    assert dl.drivers.get(driver_id=driver.id).name == "driver_name"


def test_create_a_dataset_on_external_storage_and_sync(catalog, tmp_path):
    bucket = tmp_path / "bucket"
    for n in ("a.jpg", "sub/b.jpg"):
        make_image(bucket / n)
    dl.projects.create(project_name="my_project").drivers.create(name="my_driver", driver_type="local",
                                                                 bucket_name=str(bucket))
    # SNIPPETS + "datasets/create_dataset_external_storage.py" (a local-folder driver for the bucket)
    project = dl.projects.get(project_name='my_project')
    dataset = project.datasets.create(dataset_name='my_dataset',
                                      driver='my_driver')
    dataset.sync()
    assert sorted(i.filename for i in dataset.items.list().all()) == ["/a.jpg", "/sub/b.jpg"]


def test_create_a_dataset_on_internal_storage(catalog):
    dl.projects.create(project_name="my_project")
    # SNIPPETS + "datasets/create_dataset_internal_storage.py"
    project = dl.projects.get(project_name='my_project')
    dataset = project.datasets.create(dataset_name='my_dataset')
    assert dl.datasets.get(dataset_name="my_dataset").id == dataset.id


def test_module_level_recipes_and_annotations(dataset, item):
    ann = item.annotations.upload([dl.Box(1, 1, 5, 5, label="car")])[0]
    # SDK + "__init__.py": dl.recipes / dl.annotations, by id (the introduction tutorial's
    # "recipe = dl.recipes.get(recipe_id=...)")
    recipe = dl.recipes.get(recipe_id=dataset.recipe.id)
    annotation = dl.annotations.get(annotation_id=ann.id)
    assert recipe.id == dataset.recipe_id and annotation.label == "car"


def test_platform_only_names_fail_with_what_to_do(dataset):
    # INTRO (items_and_annotations) "Working with Context": tasks and assignments are Dataloop's platform
    with pytest.raises(dl.DsdeskError, match="no tasks, assignments or pipelines"):
        task = dl.tasks.get(task_id="your-task-id")
    assert dl.token_expired() is False  # "if dl.token_expired(): dl.login()" skips the login
    with pytest.raises(dl.DsdeskError, match="dd.open_catalog"):
        dl.login()


def test_download_folder(dataset, tmp_path):
    # SDK + "entities/dataset.py", Dataset.download_folder's example (JSON only: masks are not written)
    dataset.download_folder(folder_path='/fighting',
                            local_path=str(tmp_path / 'local_path'),
                            annotation_options=[dl.ViewAnnotationOptions.JSON],
                            overwrite=False,
                            thickness=1,
                            with_text=False,
                            alpha=1,
                            dataset_lock=False,
                            lock_timeout_sec=300,
                            export_summary=False)
    got = sorted(p.relative_to(tmp_path / "local_path").as_posix() for p in (tmp_path / "local_path").rglob("*.jpg"))
    assert got == ["items/fighting/a.jpg", "items/fighting/b.jpg"]


def test_project_delete_needs_sure_and_really(project):
    # SDK + "entities/project.py", Project.delete(sure=True, really=True)
    with pytest.raises(dl.DsdeskError, match="sure=True and really=True"):
        project.delete()
    project.delete(sure=True, really=True)
    with pytest.raises(dl.exceptions.NotFound):
        dl.projects.get(project_name="project_name")


def test_sdk_names_dsdesk_lacks_say_what_to_do(dataset, item):
    with pytest.raises(dl.DsdeskError, match="dataset.clone"):
        dataset.items.clone(item_id=item.id)
    with pytest.raises(dl.DsdeskError, match="dd.Box"):
        dl.Subtitle(label="speech", text="Hello world")
    assert item.system["mimetype"] == "image/jpeg" and dataset.annotated == 0
