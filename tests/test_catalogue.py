"""The bad-input catalogue (helpers.catalogue): every entry raises the documented error type with a
message naming the file, the participant, the column/volume and the rule broken.

Each case breaks a small copy of the tiny twin in tmp_path.  Output-folder case: tests run as root,
where chmod does not stop writes, so the unwritable output folder is a path *below a regular file*
(no user can create it).
"""

import pytest

from helpers import catalogue


def test_the_catalogue_is_large_and_ids_are_unique():
    ids = [case.id for case in catalogue.CASES]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", catalogue.CASES, ids=lambda c: c.id)
def test_bad_input_gives_a_clear_error(case, tiny_twin, tmp_path):
    err = catalogue.run_case(case, tiny_twin, tmp_path)
    assert err is not None, f"{case.id}: no error raised"
    assert type(err) is case.error, f"{case.id}: {type(err).__name__}: {err}"
    message = str(err)
    for word in case.keywords:
        assert word in message, f"{case.id}: {word!r} not in message:\n{message}"
    assert catalogue.matches(case, err)


def test_the_untouched_copy_is_valid(tiny_twin, tmp_path):
    """The cases fail because of their one change: the same copies without it pass."""
    from helpers.bids import validate_dataset

    root, subs = catalogue._mini_dataset(tiny_twin, tmp_path, 2)
    validate_dataset(root)
    assert subs == ["sub-01", "sub-02"]


def test_catalogue_table_shows_the_real_messages(tiny_twin, tmp_path, monkeypatch):
    some = tuple(c for c in catalogue.CASES if c.id in ("scs_out_of_range", "params_wrong_type"))
    monkeypatch.setattr(catalogue, "CASES", some)
    table = catalogue.catalogue_table(tiny_twin, tmp_path)
    assert list(table["error"]) == ["ValueError", "TypeError"]
    assert table["as documented"].all()
    assert "participant sub-02, column scs_07: value 6 is outside 1–5" in table["message"][0]
    assert str(tmp_path) not in table["message"][0]
