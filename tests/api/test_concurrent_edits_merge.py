"""The three-way merge of metadata documents (dsdesk.api.metadata_merge), case by case."""

from __future__ import annotations

import copy
import pickle

import pytest

from dsdesk.api.metadata_merge import ABSENT, Conflict, Value, merge3, resolve, same, set_path, value_text
from dsdesk.errors import InvalidInputError


def _merge(base, mine, theirs):
    snap = copy.deepcopy((base, mine, theirs))
    r = merge3(base, mine, theirs)
    assert (base, mine, theirs) == snap  # the inputs are never changed
    return r


@pytest.mark.parametrize("base,mine,theirs,merged", [
    # nobody changed anything
    ({"a": 1}, {"a": 1}, {"a": 1}, {"a": 1}),
    # one side changed a key
    ({"a": 1}, {"a": 2}, {"a": 1}, {"a": 2}),
    ({"a": 1}, {"a": 1}, {"a": 3}, {"a": 3}),
    # both changed different keys
    ({"a": 1, "b": 1}, {"a": 2, "b": 1}, {"a": 1, "b": 3}, {"a": 2, "b": 3}),
    # added keys on both sides
    ({}, {"a": 1}, {"b": 2}, {"a": 1, "b": 2}),
    # removed by one, untouched by the other: removed
    ({"a": 1, "b": 2}, {"b": 2}, {"a": 1, "b": 2}, {"b": 2}),
    ({"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 1}, {"a": 1}),
    # removed by both
    ({"a": 1}, {}, {}, {}),
    # both made the same change
    ({"a": 1}, {"a": 5}, {"a": 5}, {"a": 5}),
    ({}, {"a": [1, 2]}, {"a": [1, 2]}, {"a": [1, 2]}),
    # nested dicts merge per key path
    ({"u": {"x": 1, "y": 1}}, {"u": {"x": 2, "y": 1}}, {"u": {"x": 1, "y": 3}}, {"u": {"x": 2, "y": 3}}),
    ({"u": {"deep": {"p": 1, "q": 1}}}, {"u": {"deep": {"p": 9, "q": 1}}}, {"u": {"deep": {"p": 1, "q": 8}, "z": 0}},
     {"u": {"deep": {"p": 9, "q": 8}, "z": 0}}),
    # both created a dict where there was none: its keys merge
    ({}, {"review": {"by": "ann"}}, {"review": {"state": "ok"}}, {"review": {"by": "ann", "state": "ok"}}),
    # a scalar turned into a dict by both sides with different keys
    ({"r": 1}, {"r": {"a": 1}}, {"r": {"b": 2}}, {"r": {"a": 1, "b": 2}}),
    # a list changed by one side only is taken whole
    ({"tags": ["a"]}, {"tags": ["a", "b"]}, {"tags": ["a"]}, {"tags": ["a", "b"]}),
    # top-level scalar fields (description, filename) like any key
    ({"description": None, "user": {}}, {"description": "mine", "user": {}}, {"description": None, "user": {"k": 1}},
     {"description": "mine", "user": {"k": 1}}),
])
def test_clean_merges(base, mine, theirs, merged):
    r = _merge(base, mine, theirs)
    assert r.clean and r.conflicts == []
    assert r.merged == merged


@pytest.mark.parametrize("base,mine,theirs,path,values", [
    ({"a": 1}, {"a": 2}, {"a": 3}, ("a",), (1, 2, 3)),
    # both added the same key with different values
    ({}, {"a": "x"}, {"a": "y"}, ("a",), (ABSENT, "x", "y")),
    # removed by one, changed by the other
    ({"a": 1}, {}, {"a": 2}, ("a",), (1, ABSENT, 2)),
    ({"a": 1}, {"a": 2}, {}, ("a",), (1, 2, ABSENT)),
    # lists are values: two different edits conflict
    ({"t": [1]}, {"t": [1, 2]}, {"t": [1, 3]}, ("t",), ([1], [1, 2], [1, 3])),
    # a dict on one side, a scalar on the other
    ({"r": 1}, {"r": {"a": 1}}, {"r": 2}, ("r",), (1, {"a": 1}, 2)),
    # deep path
    ({"u": {"d": {"p": 1}}}, {"u": {"d": {"p": 2}}}, {"u": {"d": {"p": 3}}}, ("u", "d", "p"), (1, 2, 3)),
    # types count: 1, 1.0 and True are different values
    ({"n": 0}, {"n": 1}, {"n": 1.0}, ("n",), (0, 1, 1.0)),
    ({"n": 0}, {"n": True}, {"n": 1}, ("n",), (0, True, 1)),
    # null is a value, not a removal
    ({"a": 1}, {"a": None}, {}, ("a",), (1, None, ABSENT)),
])
def test_conflicts(base, mine, theirs, path, values):
    r = _merge(base, mine, theirs)
    assert not r.clean
    [c] = r.conflicts
    assert c.path == path and (c.base, c.mine, c.theirs) == values
    assert c.key == ".".join(path)


def test_conflict_keeps_theirs_until_resolved_and_the_rest_is_merged():
    base = {"user": {"split": "train", "score": 1, "note": "n"}, "description": "d"}
    mine = {"user": {"split": "val", "score": 1, "note": "mine"}, "description": "d"}
    theirs = {"user": {"split": "test", "score": 2, "note": "n"}, "description": "theirs"}
    r = _merge(base, mine, theirs)
    assert [c.key for c in r.conflicts] == ["user.split"]
    assert r.merged == {"user": {"split": "test", "score": 2, "note": "mine"}, "description": "theirs"}
    assert resolve(r, "mine")["user"]["split"] == "val"
    assert resolve(r, "theirs")["user"]["split"] == "test"
    assert resolve(r, {"user.split": Value("both")})["user"]["split"] == "both"
    assert resolve(r, {("user", "split"): "mine"}) == {
        "user": {"split": "val", "score": 2, "note": "mine"}, "description": "theirs"}
    assert r.merged["user"]["split"] == "test"  # resolving copies


def test_several_conflicts_in_document_order_and_per_path_choices():
    base = {"user": {"a": 1, "b": 1, "c": {"x": 1}}, "description": "d"}
    mine = {"user": {"a": 2, "b": 2, "c": {"x": 2}}, "description": "m"}
    theirs = {"user": {"a": 3, "b": 3, "c": {"x": 3}}, "description": "t"}
    r = _merge(base, mine, theirs)
    assert [c.key for c in r.conflicts] == ["user.a", "user.b", "user.c.x", "description"]
    doc = resolve(r, {"user.a": "mine", "user.b": "theirs", "user.c.x": Value(ABSENT), "description": "mine"})
    assert doc == {"user": {"a": 2, "b": 3, "c": {}}, "description": "m"}


def test_resolving_a_removal():
    r = _merge({"a": 1, "b": 0}, {"b": 0}, {"a": 2, "b": 0})
    assert resolve(r, "mine") == {"b": 0}
    assert resolve(r, "theirs") == {"a": 2, "b": 0}
    r2 = _merge({"d": {"a": 1}}, {"d": {"a": 2}}, {"d": {}})
    assert resolve(r2, "theirs") == {"d": {}}
    assert resolve(r2, "mine") == {"d": {"a": 2}}


@pytest.mark.parametrize("choices,message", [
    ({}, "no choice for the conflicting path user.a"),
    ({"user.a": "yours"}, "must be 'mine', 'theirs' or Value"),
    ({"user.a": "mine", "user.zzz": "mine"}, "'user.zzz' is not one of the conflicting paths"),
    ("both", "resolve conflicts with 'mine', 'theirs'"),
    (["mine"], "must be 'mine', 'theirs' or a dict per path"),
])
def test_bad_choices_are_refused_by_name(choices, message):
    r = _merge({"user": {"a": 1}}, {"user": {"a": 2}}, {"user": {"a": 3}})
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve(r, choices)


def test_a_document_must_be_a_dict():
    with pytest.raises(InvalidInputError, match="theirs"):
        merge3({}, {}, [1])


def test_same_is_typed_json_equality():
    assert same({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]})
    assert not same(1, 1.0) and not same(True, 1) and not same(0, False) and not same(None, ABSENT)
    assert not same({"a": 1}, {"a": 1, "b": 2}) and not same([1], (1, 2)) and same([1, 2], (1, 2))
    assert same(ABSENT, ABSENT) and not same("1", 1)


def test_absent_survives_copies_and_pickles():
    c = Conflict(("a",), ABSENT, 1, ABSENT)
    assert copy.deepcopy(c).base is ABSENT
    assert pickle.loads(pickle.dumps(c)).theirs is ABSENT
    assert not ABSENT and repr(ABSENT) == "ABSENT"


def test_set_path_and_value_text():
    d = {"a": 1}
    set_path(d, ("x", "y"), 2)
    set_path(d, ("a",), ABSENT)
    set_path(d, ("nope", "deeper"), ABSENT)
    assert d == {"x": {"y": 2}}
    assert value_text(ABSENT) == "(not set)" and value_text(None) == "null" and value_text("é") == '"é"'
    assert value_text({"k": [1, 2]}) == '{"k": [1, 2]}'
    assert len(value_text("x" * 500, limit=20)) == 20
