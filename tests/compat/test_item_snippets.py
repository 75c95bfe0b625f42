"""Dataloop's item snippets - uploads, metadata, pages, downloads - run as published
(``import dsdesk as dl``; the user's files replaced by real Pillow images made here; see
conftest for the project and dataset fixtures).  Each test names its source."""
# The snippets are kept as published, f-strings and all.
# ruff: noqa: F841

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import dsdesk as dl
from tests.conftest import make_image

DOCS = "https://github.com/dataloop-ai/dtlpy-documentation/blob/main/tutorials/data_management/"
INTRO = DOCS + "items_and_annotations/introduction/chapter.md"
MORE = DOCS + "items_and_annotations/more_examples/chapter.md"
EXAMPLES = "https://github.com/dataloop-ai/dtlpy/blob/main/dtlpy/examples/"


@pytest.fixture
def images(tmp_path):
    """Local images at the names the snippets use."""
    folder = tmp_path / "images"
    for name in ("John Morris.jpg", "John Benton.jpg", "Liu Jinli.jpg"):
        make_image(folder / name, (40, 30))
    return folder


def _files(dataset, folder="/"):
    return sorted(i.filename for i in dataset.items.list(filters=dl.Filters(field="dir", values=folder)).all())


def test_upload_specific_files(dataset, images):
    # INTRO, "Upload Specific Files"
    project = dl.projects.get(project_name='project_name')
    dataset = project.datasets.get(dataset_name='dataset_name')

    # Upload specific files
    local_path = [
        str(images / 'John Morris.jpg'),
        str(images / 'John Benton.jpg'),
        str(images / 'Liu Jinli.jpg')
    ]
    remote_path = '/folder_name'  # Optional: files go to root directory by default

    # Upload the files
    dataset.items.upload(
        local_path=local_path,
        remote_path=remote_path
    )
    assert _files(dataset, "/folder_name") == ["/folder_name/John Benton.jpg", "/folder_name/John Morris.jpg",
                                               "/folder_name/Liu Jinli.jpg"]


def test_upload_a_whole_folder(dataset, images):
    # INTRO, "Upload an Entire Folder"
    # Specify your folder path
    local_path = str(images)
    remote_path = '/folder_name'

    # Upload everything in the folder
    dataset.items.upload(
        local_path=local_path,
        remote_path=remote_path
    )
    assert len(_files(dataset, "/folder_name/images")) == 3


def test_upload_a_url_link_says_what_to_do_instead(dataset):
    # INTRO, "Upload Items from URLs": links are not supported; the error says why and the alternative
    url_path = 'http://ww.some_website/beautiful_flower.jpg'
    file_name = 'flower.jpg'
    with pytest.raises(dl.DsdeskError, match="download the file and upload it"):
        # Create a URL link
        link = dl.UrlLink(
            ref=url_path,
            mimetype='image',
            name=file_name
        )


def test_upload_with_metadata(dataset, tmp_path):
    make_image(tmp_path / "path/to/image.jpg")
    # INTRO, "Upload with Metadata" (the path made relative to the test's folder)
    item_info = {
        'local_path': str(tmp_path / 'path/to/image.jpg'),
        'remote_path': '/destination',
        'remote_name': 'new_name.jpg',
        'item_metadata': {
            'user': {
                'category': 'flower',
                'color': 'red'
            }
        }
    }

    # Upload with metadata
    item = dataset.items.upload(**item_info)
    assert item.filename == "/destination/new_name.jpg"
    assert item.metadata["user"] == {"category": "flower", "color": "red"}


def test_add_metadata_and_filter_on_it(dataset, item, capsys):
    # INTRO, "Adding Metadata to Existing Items" (the placeholder id is an item's)
    item = dataset.items.get(item_id=item.id)

    # Add or update metadata
    if 'user' not in item.metadata:
        item.metadata['user'] = dict()
    item.metadata['user']['mood'] = 'fantastic'

    # Save the changes
    item = item.update()

    # INTRO, "Filtering by Metadata"
    filters = dl.Filters(resource=dl.FiltersResource.ITEM)
    filters.add(field='metadata.user.mood', values='fantastic')

    # Find matching items
    pages = dataset.items.list(filters=filters)
    for page in pages:
        for item in page:
            print(f"Found item: {item.name} with mood: {item.metadata['user']['mood']}")
    assert capsys.readouterr().out == "Found item: your-image-file-path.jpg with mood: fantastic\n"


def test_metadata_outside_user_is_refused_not_dropped(dataset, item):
    # INTRO, "Working with Metadata": a key beside metadata['user'] would be lost - refused by name
    item.metadata['origin'] = 'camera-7'
    with pytest.raises(dl.DsdeskError, match=r"metadata\['origin'\].*metadata\['user'\]"):
        item.update()
    assert "origin" not in dataset.items.get(item_id=item.id).metadata


def test_upload_a_numpy_array(dataset, tmp_path):
    Image.new("RGB", (50, 40), (200, 120, 10)).save(tmp_path / "saturn.jpg")
    # INTRO, "Upload NumPy Arrays" (cv2.imread replaced by PIL, which the snippet offers too)
    img_pil = np.asarray(Image.open(str(tmp_path / "saturn.jpg")))

    # Upload array (remote_name is required!)
    item = dataset.items.upload(
        local_path=img_pil,
        remote_name='saturn.jpg'
    )
    assert (item.filename, item.width, item.height) == ("/saturn.jpg", 50, 40)


def test_batch_upload_from_a_dataframe_with_annotations(dataset, tmp_path):
    for n in ("000000000064.jpg", "000000000776.jpg"):
        make_image(tmp_path / n)
    (tmp_path / "000000000776.json").write_text(json.dumps({"annotations": [
        {"type": "box", "label": "dog", "coordinates": [{"x": 1, "y": 1}, {"x": 9, "y": 9}]}]}))
    # MORE, "Batch Upload with Metadata and Annotations" (Windows paths replaced)
    upload_data = [
        {
            'local_path': str(tmp_path / "000000000064.jpg"),
            'local_annotations_path': str(tmp_path / "000000000776.json"),
            'remote_path': '/first',
            'remote_name': 'f.jpg',
            'item_metadata': {'user': {'category': 'first'}}
        },
        {
            'local_path': str(tmp_path / "000000000776.jpg"),
            'local_annotations_path': str(tmp_path / "000000000776.json"),
            'remote_path': "/second",
            'remote_name': 's.jpg',
            'item_metadata': {'user': {'category': 'second'}}
        }
    ]

    # Create DataFrame
    df = pd.DataFrame(upload_data)

    # Upload with DataFrame
    dataset = dl.datasets.get(dataset_id=dataset.id)
    items = dataset.items.upload(
        local_path=df,
        overwrite=True
    )
    got = {i.filename: (i.metadata["user"]["category"], [a.label for a in i.annotations.list()])
           for i in items}
    assert got == {"/first/f.jpg": ("first", ["dog"]), "/second/s.jpg": ("second", ["dog"])}


def test_random_array_upload_and_download_as_array(dataset):
    # MORE, "Image Arrays with OpenCV" (the random array)
    random_array = np.random.rand(100, 100, 3) * 255
    random_array = random_array.astype(np.uint8)

    # Upload array (remember to specify remote_name!)
    item = dataset.items.upload(
        local_path=random_array,
        remote_name='generated_image.jpg'  # Only .jpg or .png formats are supported!
    )

    # Download as array
    buffer = item.download(
        save_locally=False,  # Returns a buffer instead of saving to disk
        to_array=True       # Converts the buffer directly to a numpy array
    )
    assert buffer.shape == (100, 100, 3) and buffer.dtype == np.uint8


def test_pil_array_upload(dataset, tmp_path):
    make_image(tmp_path / "path/to/image.jpg", (33, 22))
    # MORE, "Image Arrays with PIL"
    pil_image = Image.open(str(tmp_path / 'path/to/image.jpg'))
    np_array = np.asarray(pil_image)

    # Upload the array
    item = dataset.items.upload(
        local_path=np_array,
        remote_name='pil_image.jpg'
    )
    assert (item.name, item.width, item.height, item.mimetype) == ("pil_image.jpg", 33, 22, "image/jpeg")


def test_upload_a_stream_and_read_it_back(dataset):
    # MORE, "Working with Streams Directly"
    json_data = {
        "name": "example_item",
        "metadata": {
            "category": "sample",
            "tags": ["test", "example"],
            "version": 1.0
        }
    }

    # Upload the json
    uploaded_item = dataset.items.upload(
        local_path=json.dumps(json_data).encode(),
        remote_name='json_file.json'
    )

    # Download and open the json as dictionary
    item = dl.items.get(item_id=uploaded_item.id)
    json_data = json.loads(item.download(save_locally=False).getvalue())
    assert json_data["metadata"]["tags"] == ["test", "example"] and item.mimetype == "application/json"


def test_complex_metadata_structure(dataset, tmp_path):
    make_image(tmp_path / "path/to/image.jpg")
    # MORE, "Complex Metadata Structure"
    metadata = {
        'user': {
            'categories': ['dog', 'cat'],
            'attributes': {
                'size': 'large',
                'colors': ['brown', 'white'],
                'age': 3
            },
            'validation': {
                'verified': True,
                'verified_by': 'john.doe@example.com',
                'verified_date': '2024-01-01'
            }
        }
    }

    # Upload with complex metadata
    item = dataset.items.upload(
        local_path=str(tmp_path / 'path/to/image.jpg'),
        remote_name='pet.jpg',
        item_metadata=metadata
    )
    assert dataset.items.get(filepath="/pet.jpg").metadata["user"] == metadata["user"]


def test_batch_metadata_update(dataset, tmp_path):
    for n in ("a.jpg", "b.jpg"):
        dataset.items.upload(local_path=str(make_image(tmp_path / n)), remote_path="/pets")
    # MORE, "Batch Metadata Update"
    filters = dl.Filters()
    filters.add(field='dir', values='/pets')

    update_values = {
        'user': {
            'batch_processed': True,
            'process_date': '2024-01-01'
        }
    }

    dataset.items.update(
        filters=filters,
        update_values=update_values
    )
    users = [i.metadata["user"] for i in dataset.items.list(filters=filters).all()]
    assert users == [{"user": {"batch_processed": True, "process_date": "2024-01-01"}}] * 2


def test_progress_tracking_over_all_items(dataset):
    processed = []
    process_item = processed.append
    # MORE, "Progress Tracking" (tqdm replaced by a counter: the loop is the snippet's)
    filters = dl.Filters()
    pages = dataset.items.list(filters=filters)
    total = pages.items_count
    for item in pages.all():
        # Your processing logic here
        process_item(item)
    assert total == len(processed) == 5


def test_parallel_processing(dataset):
    from concurrent.futures import ThreadPoolExecutor

    pages = dataset.items.list()
    names = []

    # MORE, "Parallel Processing" (the progress bar left out)
    def process_item(item):
        # Your processing logic here
        names.append(item.open().read(2))
        return True

    # Process in parallel
    with ThreadPoolExecutor(max_workers=32) as executor:
        futures = []
        for item in pages.all():
            future = executor.submit(process_item, item)
            futures.append(future)

        # Track progress
        for future in futures:
            future.result()
    assert names == [b"\xff\xd8"] * 5


def test_download_in_multiple_formats_names_what_is_missing(dataset, tmp_path):
    # MORE, "Multiple Format Downloads": masks and instance maps are not written; the error says so
    with pytest.raises(dl.DsdeskError, match="instance, mask not supported"):
        dataset.download(
            local_path=str(tmp_path / "downloads"),
            annotation_options=[
                dl.VIEW_ANNOTATION_OPTIONS_MASK,
                dl.VIEW_ANNOTATION_OPTIONS_JSON,
                dl.ViewAnnotationOptions.INSTANCE
            ]
        )
    assert not (tmp_path / "downloads").exists()


def test_filtered_download(dataset, tmp_path):
    # MORE, "Filtered Downloads"
    item_filters = dl.Filters(resource="items", field="dir", values="/fighting")
    # Filter for specific annotations
    annotation_filters = dl.Filters(
        resource=dl.FiltersResource.ANNOTATION,
        field="label",
        values="desired_label"
    )
    # Download with filters
    dataset.download(
        local_path=str(tmp_path / "filtered_downloads"),
        filters=item_filters,
        annotation_filters=annotation_filters,
        annotation_options=dl.VIEW_ANNOTATION_OPTIONS_JSON
    )
    got = sorted(p.relative_to(tmp_path / "filtered_downloads").as_posix()
                 for p in (tmp_path / "filtered_downloads").rglob("*") if p.is_file())
    assert got == ["items/fighting/a.jpg", "items/fighting/b.jpg", "json/fighting/a.jpg.json",
                   "json/fighting/b.jpg.json"]


def test_error_handling_catches_the_platform_exception(dataset, capsys):
    large_batch = [b"not a path"]
    # MORE, "Error Handling"
    try:
        items = dataset.items.upload(local_path=large_batch)
    except dl.exceptions.PlatformException as e:
        print(f"Platform error: {e}")
    assert capsys.readouterr().out.startswith("Platform error: uploading bytes or a buffer without a name")


def test_batch_upload_through_dataframes(dataset, tmp_path):
    file_list = [str(make_image(tmp_path / f"f{i}.jpg", (8, 8))) for i in range(5)]
    # MORE, "Performance Optimization" (batches of 2 instead of 100, tqdm left out)
    items_batch = []
    for i, file_path in enumerate(file_list):
        items_batch.append({
            'local_path': file_path,
            'remote_name': f'processed_{i}.jpg'
        })
        if len(items_batch) == 2:  # Process in batches of 2
            dataset.items.upload(local_path=pd.DataFrame(items_batch))
            items_batch = []
    assert [f for f in _files(dataset) if "processed" in f] == [f"/processed_{i}.jpg" for i in range(4)]


def test_example_add_metadata_to_item(project, dataset, tmp_path):
    item_path = str(make_image(tmp_path / "item.jpg"))
    project_name, dataset_name = project.name, dataset.name
    # EXAMPLES + "add_metadata_to_item.py", main()
    dataset = dl.projects.get(project_name=project_name).datasets.get(dataset_name=dataset_name)
    # upload and claim item
    item = dataset.items.upload(local_path=item_path)
    # modify metadata
    item.metadata['user'] = dict()
    item.metadata['user']['MyKey'] = 'MyVal'
    # update and reclaim item
    item = item.update()
    assert dataset.items.get(filepath="/item.jpg").metadata["user"] == {"MyKey": "MyVal"}


def test_example_copy_folder(project, dataset, tmp_path):
    dataset.items.upload(local_path=[str(make_image(tmp_path / n)) for n in ("s1.jpg", "s2.jpg")],
                         remote_path="/source_folder/deep")
    other = dl.projects.create(project_name="second").datasets.create(dataset_name="second_dataset")
    first_project_name, second_project_name = project.name, "second"
    first_dataset_name, second_dataset_name = dataset.name, other.name
    # EXAMPLES + "copy_folder.py", main()
    project = dl.projects.get(project_name=first_project_name)
    dataset_from = project.datasets.get(dataset_name=first_dataset_name)
    # filter to get all files of a specific folder
    filters = dl.Filters()
    filters.add(field='type', values='file')  # get only files
    filters.add(field='filename', values='/source_folder/**')  # get all items in folder (recursive)
    pages = dataset_from.items.list(filters=filters)
    # Get destination project and annotations
    project = dl.projects.get(project_name=second_project_name)
    dataset_to = project.datasets.get(dataset_name=second_dataset_name)
    # go over all projects and copy file from src to dst
    for page in pages:
        for item in page:
            # download item (without save to disk)
            buffer = item.download(save_locally=False)
            # give the items name to the buffer
            buffer.name = item.name
            # upload item
            new_item = dataset_to.items.upload(local_path=buffer,
                                               remote_path='/destination_folder')
            print(new_item.filename)
    assert _files(dataset_to, "/destination_folder") == ["/destination_folder/s1.jpg", "/destination_folder/s2.jpg"]


def test_example_move_item(dataset):
    dataset.items.make_dir("/fighting_shredder")  # the example's premise: the destination folder exists
    # EXAMPLES + "move_item.py", main()
    filters = dl.Filters()
    filters.add(field='filename', values='/fighting/**')  # take files from the directory only (recursive)
    filters.add(field='type', values='file')  # only files
    pages = dataset.items.list(filters=filters)
    dst_folder = '/fighting_shredder'
    # iterate through items
    for page in pages:
        for item in page:
            # move item
            item.move(new_path=dst_folder)
    assert _files(dataset, "/fighting_shredder") == ["/fighting_shredder/a.jpg", "/fighting_shredder/b.jpg"]


def test_example_upload_batch_of_items(dataset, images):
    # EXAMPLES + "upload_batch_of_items.py", main() (the user's files replaced)
    dataset.items.upload(local_path=[str(images / 'John Morris.jpg'),
                                     str(images / 'John Benton.jpg'),
                                     str(images / 'Liu Jinli.jpg')],
                         remote_path='/first_batch')
    # upload all files in a folder
    dataset.items.upload(local_path=str(images),
                         remote_path='/first_batch')
    assert len(_files(dataset, "/first_batch")) == 3 and len(_files(dataset, "/first_batch/images")) == 3


def test_buffer_named_by_a_relative_path_keeps_its_folder(dataset):
    # DOCS + "datasets_and_versioning/chapter.md", "Deep Copying Between Datasets" (one item of its loop)
    src_folder = '/fighting'
    dst_folder = '/destination_folder'
    item = dataset.items.get(filepath="/fighting/a.jpg")
    buffer = item.download(save_locally=False)
    buffer.name = item.filename[len(src_folder) + 1:]
    new_item = dataset.items.upload(local_path=buffer, remote_path=dst_folder)
    assert isinstance(new_item, dl.Item) and new_item.filename == "/destination_folder/a.jpg"
    deeper = io.BytesIO(buffer.getvalue())
    deeper.name = "sub/b.jpg"
    assert dataset.items.upload(local_path=deeper, remote_path=dst_folder).filename == "/destination_folder/sub/b.jpg"
