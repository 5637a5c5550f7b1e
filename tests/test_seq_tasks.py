"""Book 2's generated tasks: addition and dates (zerodl.data.seq_tasks via datasets)."""
import datetime
import re

import numpy as np
import pytest

from zerodl.data import datasets
from zerodl.data.seq_tasks import CharVocab


@pytest.fixture(scope="module")
def add():
    return datasets.addition(n=3000, seed=1)


def test_addition_layout_and_answers_are_right(add):
    assert add.x_train.shape == (2700, 7) and add.t_train.shape == (2700, 5)
    assert add.x_test.shape == (300, 7) and add.t_test.shape == (300, 5)
    assert add.x_train.dtype == np.int64
    assert add.vocab.chars == list(" _+0123456789")
    x = np.concatenate([add.x_train, add.x_test])
    t = np.concatenate([add.t_train, add.t_test])
    for i in range(len(x)):
        q, a = add.vocab.decode(x[i]), add.vocab.decode(t[i])
        m = re.fullmatch(r"(\d{1,3})\+(\d{1,3})", q)
        assert m and int(a) == int(m[1]) + int(m[2])
        assert (q, a) == (add.questions[i], add.answers[i])
    assert np.all(t[:, 0] == add.vocab.char_to_id["_"])
    assert len(set(add.questions)) == 3000  # distinct pairs: the test split is truly held out


def test_addition_default_is_the_books_size_and_deterministic():
    full = datasets.addition()
    assert len(full.x_train) == 45000 and len(full.x_test) == 5000
    again = datasets.addition()
    np.testing.assert_array_equal(full.x_train, again.x_train)
    np.testing.assert_array_equal(full.t_test, again.t_test)
    other = datasets.addition(seed=2)
    assert not np.array_equal(full.x_train[:100], other.x_train[:100])
    assert full.vocab.decode(full.x_train[0], strip=False).__len__() == 7


def test_dates_answers_parse_to_the_same_date():
    d = datasets.dates(n=4000, seed=3)
    assert d.x_train.shape == (3600, d.x_train.shape[1]) and d.t_train.shape == (3600, 11)
    assert d.x_train.shape[1] <= 29
    formats = set()
    for q, a in zip(d.questions, d.answers):
        date = datetime.date.fromisoformat(a)
        assert 1970 <= date.year <= 2029
        low = q.lower()
        if "/" in q:
            m, dd, y = q.split("/")
            assert (int(m), int(dd), int(y) % 100) == (date.month, date.day, date.year % 100)
            formats.add("slash")
        elif "." in q:
            dd, m, y = q.split(".")
            assert (int(dd), int(m), int(y) % 100) == (date.day, date.month, date.year % 100)
            formats.add("dot")
        elif re.fullmatch(r"\d{4}-\d\d-\d\d", q):
            assert q == a
            formats.add("iso")
        else:
            assert str(date.year) in q and str(date.day) in q
            assert date.strftime("%b").lower() in low
            if "," in q.split(" ")[0]:
                assert low.startswith(date.strftime("%a").lower())
            formats.add("words")
    assert formats == {"slash", "dot", "iso", "words"}
    cases = {q.isupper() for q in d.questions if q[0].isalpha()}
    assert cases == {True, False}
    assert len(set(d.questions)) == 4000
    again = datasets.dates(n=4000, seed=3)
    assert again.questions == d.questions


def test_vocab_round_trip_and_errors(tmp_path):
    v = CharVocab("ab_ ")
    assert v.chars == [" ", "_", "a", "b"]
    ids = v.encode("ab", width=4)
    assert ids.tolist() == [2, 3, 0, 0] and v.decode(ids) == "ab"
    assert CharVocab.from_dict(v.to_dict()).chars == v.chars
    again = CharVocab.load(v.save(tmp_path / "chars.vocab.json"))
    assert isinstance(again, CharVocab) and again.decode(ids) == "ab"
    with pytest.raises(ValueError, match="character 'z' of 'az' is not in the vocabulary"):
        v.encode("az")
    with pytest.raises(ValueError, match="longer than width 1"):
        v.encode("ab", 1)
    with pytest.raises(ValueError, match=r"addition: n must be an integer in \[1, 100\]"):
        datasets.addition(n=101, max_value=9)
    with pytest.raises(ValueError, match="within 100 years"):
        datasets.dates(start_year=1900, end_year=2020)
