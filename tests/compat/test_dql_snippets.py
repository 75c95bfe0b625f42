"""Dataloop's DQL tutorial snippets on items - filters, logical operators, pages, page size,
saved filters and the operator cookbook - run as published (``import dsdesk as dl``; see
conftest for the fixtures).  Each test names its source."""
# The snippets are kept as published, unused loop variables too.
# ruff: noqa: B007

from __future__ import annotations

import pytest

import dsdesk as dl

DOCS = "https://github.com/dataloop-ai/dtlpy-documentation/blob/main/tutorials/data_management/"
DQL = DOCS + "dataloop_query_language/introduction/chapter.md"
COOKBOOK = DOCS + "dataloop_query_language/more_examples/chapter.md"


def _annotate(dataset):
    dataset.items.get(filepath="/dogs/black.jpg").annotations.upload([dl.Box(1, 1, 9, 9, label="dog")])
    dataset.items.get(filepath="/cats/c.jpg").annotations.upload([dl.Box(1, 1, 9, 9, label="cat")])


def test_basic_filtering(dataset, capsys):
    _annotate(dataset)
    # DQL, "Basic Filtering Operations"
    project = dl.projects.get(project_name='project_name')
    dataset = project.datasets.get(dataset_name='dataset_name')

    # Create filters instance
    filters = dl.Filters()

    # Filter only annotated items
    filters.add(field='annotated', values=True)

    # Optional: Sort results by filename
    filters.sort_by(field="filename")

    # Get filtered items
    pages = dataset.items.list(filters=filters)
    print(f'Found {pages.items_count} items')
    assert capsys.readouterr().out == "Found 2 items\n"
    assert [i.filename for i in pages.all()] == ["/cats/c.jpg", "/dogs/black.jpg"]


def test_and_operations(dataset, capsys):
    for path in ("/dogs/black.jpg", "/cats/c.jpg"):
        it = dataset.items.get(filepath=path)
        it.metadata["user"]["is_automated"] = True
        it.update()
    _annotate(dataset)
    dataset.items.get(filepath="/fighting/a.jpg").annotations.upload([dl.Point(1, 1, label="dog")])
    # DQL, "AND Operations"
    filters = dl.Filters()

    # Find items that are:
    filters.add(
        field='annotated',
        values=True,
        method=dl.FiltersMethod.AND  # This is default, you can skip it
    )

    # AND have specific metadata
    filters.add(
        field='metadata.user.is_automated',
        values=True,
        method=dl.FiltersMethod.AND
    )

    # Optional: Sort by name
    filters.sort_by(field='name')

    # Get results
    pages = dataset.items.list(filters=filters)
    print(f'Found {pages.items_count} items')
    assert capsys.readouterr().out == "Found 2 items\n"
    assert [i.name for i in pages.all()] == ["black.jpg", "c.jpg"]


def test_or_operations(dataset, capsys):
    # DQL, "OR Operations" (the folder names are the fixture's)
    filters = dl.Filters()

    # Find items in either folder
    filters.add(
        field='dir',
        values='/fighting',
        method=dl.FiltersMethod.OR
    )
    filters.add(
        field='dir',
        values='/dogs',
        method=dl.FiltersMethod.OR
    )

    # Optional: Sort by directory (descending)
    filters.sort_by(
        field='dir',
        value=dl.FILTERS_ORDERBY_DIRECTION_DESCENDING
    )

    # Get results
    pages = dataset.items.list(filters=filters)
    print(f'Found {pages.items_count} items')
    assert capsys.readouterr().out == "Found 3 items\n"
    assert [i.dir for i in pages.all()] == ["/fighting", "/fighting", "/dogs"]


def test_understanding_pages(dataset, capsys):
    # DQL, "Understanding Pages"
    filters = dl.Filters()

    # Get filtered items in pages (default 1000 items per page)
    pages = dataset.items.list(filters=filters)

    # Print total count
    print(f'Total items: {pages.items_count}')

    # Method 1: Iterate through pages
    for i_page, page in enumerate(pages):
        print(f'Page {i_page} has {len(page)} items')
        for item in page:
            print(f'Processing item: {item.name}')

    # Method 2: Use the all() iterator
    for item in pages.all():
        print(f'Processing item: {item.name}')

    # Method 3: Reverse iteration (useful when modifying items)
    for i_page, page in enumerate(reversed(pages)):
        print(f'Processing page {i_page} in reverse')
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["Total items: 5", "Page 0 has 5 items"]
    assert out.count("Processing item: a.jpg") == 2 and out[-1] == "Processing page 0 in reverse"


def test_customizing_page_size(dataset, capsys):
    filters = dl.Filters()
    # DQL, "Customizing Page Size" (page size 2 instead of 50, so that pages show)
    pages = dataset.items.list(
        filters=filters,
        page_size=2,
        page_offset=0  # Start from first page
    )
    print(f'Items in first page: {len(pages.items)}')
    assert capsys.readouterr().out == "Items in first page: 2\n"
    assert (pages.total_pages_count, pages.has_next_page) == (3, True)


def test_parallel_processing_with_pages(dataset):
    from concurrent.futures import ThreadPoolExecutor

    pages = dataset.items.list()

    # DQL, "Parallel Processing with Pages" (no sleep, no progress bar)
    def process_item(item):
        # Your processing logic here
        return True

    with ThreadPoolExecutor(max_workers=32) as executor:
        done = list(executor.map(process_item, pages.all()))
    assert done == [True] * pages.items_count


def test_saved_filters(project, dataset, capsys):
    # DQL, "Saving Filters" (the project positional, as published)
    project = dl.projects.get('project_name')

    # Create your filter
    filters = dl.Filters()

    # Filter items in a specific directory
    filters.add(field='dir', values='/first')

    # AND with specific annotation label
    filters.add_join(field='label', values='cat')

    # Save for later use
    filters.save(project=project, filter_name='only label cat')

    # DQL, "Listing Saved Filters"
    saved_filters_list = dl.Filters.list(project=project)
    print(saved_filters_list)

    # DQL, "Loading Saved Filters"
    filters = dl.Filters.load(project=project, filter_name='only label cat')

    # Print the filter or use it
    filters.print()
    out = capsys.readouterr().out
    assert out.startswith("['only label cat']\n") and '"label": "cat"' in out and '"dir": "/first"' in out
    assert dataset.items.list(filters=filters).items_count == 0


def test_equal_operator(dataset, capsys):
    # COOKBOOK, "Equal (eq)" (the folder is the fixture's)
    filters = dl.Filters()
    filters.add(field='dir', values='/fighting', operator=dl.FILTERS_OPERATIONS_EQUAL)
    filters.sort_by(field='filename')  # Optional: sort by name
    pages = dataset.items.list(filters=filters)
    print(f'Found {pages.items_count} items in folder')
    assert capsys.readouterr().out == "Found 2 items in folder\n"


def test_greater_and_less_than(dataset, tmp_path, capsys):
    from tests.conftest import make_image

    dataset.items.upload(local_path=str(make_image(tmp_path / "small.jpg", (20, 900))))
    height_number_in_pixels, width_number_in_pixels = 500, 100
    # COOKBOOK, "Greater Than (gt) and Less Than (lt)"
    filters = dl.Filters()
    filters.add(field='metadata.system.height', values=height_number_in_pixels,
                operator=dl.FILTERS_OPERATIONS_GREATER_THAN)
    pages = dataset.items.list(filters=filters)
    print(f'Found {pages.items_count} items taller than {height_number_in_pixels}px')

    # Example 2: Items with width < X pixels
    filters = dl.Filters()
    filters.add(field='metadata.system.width', values=width_number_in_pixels,
                operator=dl.FILTERS_OPERATIONS_LESS_THAN)
    pages = dataset.items.list(filters=filters)
    print(f'Found {pages.items_count} items narrower than {width_number_in_pixels}px')
    assert capsys.readouterr().out == "Found 1 items taller than 500px\nFound 1 items narrower than 100px\n"


def test_in_list_on_labels(dataset, capsys):
    _annotate(dataset)
    # COOKBOOK, "In List (in)"
    filters = dl.Filters()
    filters.add_join(field='label', values=['dog', 'cat'], operator=dl.FILTERS_OPERATIONS_IN)
    filters.sort_by(field='filename')
    pages = dataset.items.list(filters=filters)
    print(f'Found {pages.items_count} items with dog or cat labels')
    assert capsys.readouterr().out == "Found 2 items with dog or cat labels\n"


def test_exists(dataset, item, capsys):
    item.metadata["user"] = {"k": 1}
    item.update()
    # COOKBOOK, "Exists"
    filters = dl.Filters()
    filters.add(field='metadata.user.k', values=True, operator=dl.FILTERS_OPERATIONS_EXISTS)
    pages = dataset.items.list(filters=filters)
    print(f'Found {pages.items_count} items with user metadata')
    assert capsys.readouterr().out == "Found 1 items with user metadata\n"


def test_match_operator_is_refused_with_the_alternative(dataset):
    # The SDK's $match (an element of a list of objects): refused by name, with what to do instead
    filters = dl.Filters()
    with pytest.raises(dl.DsdeskError, match="dotted path"):
        filters.add(field='metadata.system.refs', values={'type': 'task'}, operator=dl.FiltersOperations.MATCH)


def test_count_only_page_size_zero(dataset, capsys):
    # DQL, "Understanding Filter Responses": totalItemsCount without items - the SDK's page_size=0 idiom
    filters = dl.Filters()
    filters.page_size = 0
    pages = dataset.items.list(filters=filters)
    print(pages.items_count)
    assert capsys.readouterr().out == "5\n" and pages.items == []
