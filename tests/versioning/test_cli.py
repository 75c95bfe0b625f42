"""The versioning commands of the ``dsdesk`` CLI."""

from __future__ import annotations

import json

from dsdesk.cli.main import main


def test_cli_versioning_commands(cat, master, tmp_path, capsys):
    _, ds, _ = master
    c = ["--catalog", str(tmp_path / "c.sqlite"), "-q"]
    assert main(["clone", "master", "golden", "--query", "split:train", *c]) == 0
    assert "cloned 3 items" in capsys.readouterr().out
    assert main(["clone", "master", "--into", "golden", "--target-dir", "/all", *c]) == 0
    assert main(["snapshot", "master", "v1", *c]) == 0
    assert main(["snapshot", "master", "--list", *c]) == 0
    assert "v1" in capsys.readouterr().out
    ds.items.get("/img1.png").delete()
    assert main(["diff", "master", "v1", *c]) == 0
    out = capsys.readouterr().out
    assert "1 removed" in out and "- /img1.png" in out
    assert main(["rollback", "master", "v1", *c]) == 0
    assert "rolled back" in capsys.readouterr().out
    assert main(["clone", "master", "b", *c]) == 0
    capsys.readouterr()
    assert main(["merge", "m", "golden", "b", "--json", *c]) == 0
    rep = json.loads(capsys.readouterr().out)
    # golden holds two clones of img1/3/5 (the query clone and the one under /all): inside one
    # input they stay separate items, so 6 unified + 3 = 9
    assert rep["items"] == 9 and "first input" in rep["rule"]
    assert main(["merge", "m2", "master", "b", *c]) == 0
    assert "merged 2 datasets into 'm2'" in capsys.readouterr().out
    assert main(["gc", *c]) == 0
    assert "dry run" in capsys.readouterr().out
    assert main(["rollback", "master", "nope", *c]) == 2
    assert "no snapshot 'nope'" in capsys.readouterr().err
