"""The generated sequence-to-sequence tasks of "Deep Learning from Scratch 2" (chapter 7-8).

``addition()``: ``"16+75"`` -> ``"91"``, sums of two numbers in 0..999, 50,000 distinct pairs.
``dates()``: a date written in one of many human formats (``"september 27, 1994"``,
``"9/27/94"``, ``"TUE, 27 SEP 1994"``, ...) -> ``"1994-09-27"``, made with ``datetime``.

Both are deterministic from ``seed`` and laid out as the book's files (``addition.txt``,
``date.txt``): every question is padded with spaces to one width, every answer starts with
the start symbol ``"_"`` and is padded to one width; characters are ids of a
:class:`CharVocab`. A decoder is fed ``t[:, :-1]`` and learns to predict ``t[:, 1:]``.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

from ._rng import make_rng
from .text import Vocab

__all__ = ["CharVocab", "SeqTask", "addition", "dates", "START", "PAD"]

START, PAD = "_", " "
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class CharVocab(Vocab):
    """A :class:`~zerodl.data.text.Vocab` of single characters and no special tokens; ``PAD``
    (space) and ``START`` (``"_"``) come first when present. For text, ``encode("16+75",
    width)`` takes a str (padded to ``width``) and ``decode(ids)`` returns one (trailing padding
    and a leading start symbol removed with ``strip``). Saved and loaded as a ``Vocab`` (JSON)."""

    def __init__(self, chars, specials=(), counts=None):
        chars = list(dict.fromkeys(chars))
        first = [c for c in (PAD, START) if c in chars]
        super().__init__(first + [c for c in chars if c not in first], specials=specials, counts=counts)

    @property
    def chars(self):
        return self.itos

    @property
    def char_to_id(self):
        return self.stoi

    def encode(self, text, width=None):
        if width is not None:
            if len(text) > width:
                raise ValueError(f"CharVocab.encode: {text!r} is longer than width {width}")
            text = text.ljust(width, PAD)
        try:
            return np.array([self.stoi[c] for c in text], dtype=np.int64)
        except KeyError as e:
            raise ValueError(f"CharVocab.encode: character {e.args[0]!r} of {text!r} is not in the vocabulary") from None

    def decode(self, ids, strip=True):
        """ids (T,) -> the string."""
        s = "".join(super().decode(ids))
        return s.lstrip(START).rstrip(PAD) if strip else s

    def decode_batch(self, ids, strip=True):
        return [self.decode(row, strip) for row in np.asarray(ids)]


@dataclass
class SeqTask:
    """A task's splits: ``x_*`` (N, Tq) question ids, ``t_*`` (N, Ta) answer ids (``t[:, 0]`` is
    ``START``), the :class:`CharVocab`, and the texts (``questions``, ``answers``) in split order
    (train first)."""

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    vocab: CharVocab
    questions: list
    answers: list

    @property
    def train(self):
        return self.x_train, self.t_train

    @property
    def test(self):
        return self.x_test, self.t_test


def _build(where, questions, answers, test_size, rng):
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"{where}: test_size must be in (0, 1), got {test_size}")
    order = rng.permutation(len(questions))
    questions = [questions[i] for i in order]
    answers = [START + answers[i] for i in order]
    vocab = CharVocab(sorted(set("".join(questions)) | set("".join(answers)) | {PAD, START}))
    wq, wa = max(map(len, questions)), max(map(len, answers))
    x = np.stack([vocab.encode(q, wq) for q in questions])
    t = np.stack([vocab.encode(a, wa) for a in answers])
    n_test = int(round(len(x) * test_size))
    split = len(x) - n_test
    return SeqTask(x[:split], t[:split], x[split:], t[split:], vocab, questions, [a[1:] for a in answers])


def _check_n(where, n, most):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= most:
        raise ValueError(f"{where}: n must be an integer in [1, {most}], got {n!r}")


def addition(n=50_000, seed=1984, test_size=0.1, max_value=999):
    """``n`` distinct questions ``"a+b"`` with a, b in 0..max_value, answers ``str(a + b)``.

    Widths as the book's ``addition.txt``: questions 7 characters (``"16+75  "``), answers 5
    (``"_91  "``); vocabulary ``" _+0123456789"`` (13). ``test_size`` of the shuffled pairs
    (the last ones) is the test split: 45,000 / 5,000 by default. Returns a :class:`SeqTask`.
    """
    _check_n("addition", n, (max_value + 1) ** 2)
    rng = make_rng(seed, "addition")
    pairs = rng.choice((max_value + 1) ** 2, size=n, replace=False)
    a, b = np.divmod(pairs, max_value + 1)
    questions = [f"{x}+{y}" for x, y in zip(a.tolist(), b.tolist())]
    answers = [str(x + y) for x, y in zip(a.tolist(), b.tolist())]
    return _build("addition", questions, answers, test_size, rng)


def _cased(text, rng):
    return (text.lower, text.title, text.upper)[rng.integers(3)]()


def _formats():
    """Functions (date, rng) -> text, one per human format. Each is unambiguous: slashes are
    always month/day/year, dots day.month.year; two-digit years are unique within the
    (under 100 years) range of dates."""
    def mon(d):
        return _MONTHS[d.month - 1]

    def day(d):
        return _DAYS[d.weekday()]

    y2 = lambda d: f"{d.year % 100:02d}"  # noqa: E731
    return [
        lambda d, r: _cased(f"{mon(d)} {d.day}, {d.year}", r),             # september 27, 1994
        lambda d, r: _cased(f"{mon(d)[:3]} {d.day}, {d.year}", r),         # Sep 27, 1994
        lambda d, r: _cased(f"{d.day} {mon(d)} {d.year}", r),              # 27 september 1994
        lambda d, r: _cased(f"{d.day} {mon(d)[:3]} {d.year}", r),          # 27 SEP 1994
        lambda d, r: _cased(f"{d.day:02d} {mon(d)[:3]}, {d.year}", r),     # 07 sep, 1994
        lambda d, r: _cased(f"{day(d)}, {mon(d)} {d.day}, {d.year}", r),   # Tuesday, September 27, 1994
        lambda d, r: _cased(f"{day(d)[:3]}, {d.day} {mon(d)[:3]} {d.year}", r),  # TUE, 27 SEP 1994
        lambda d, r: _cased(f"{day(d)}, {d.day} {mon(d)} {d.year}", r),    # tuesday, 27 september 1994
        lambda d, r: f"{d.month}/{d.day}/{y2(d)}",                         # 9/27/94
        lambda d, r: f"{d.month:02d}/{d.day:02d}/{d.year}",                # 09/27/1994
        lambda d, r: f"{d.day}.{d.month}.{y2(d)}",                         # 27.9.94
        lambda d, r: f"{d.day:02d}.{d.month:02d}.{d.year}",                # 27.09.1994
        lambda d, r: d.isoformat(),                                        # 1994-09-27
    ]


def dates(n=50_000, seed=1984, test_size=0.1, start_year=1970, end_year=2029):
    """``n`` distinct date questions in 13 human formats (random case for the worded ones) ->
    ``"YYYY-MM-DD"``, dates uniform in [start_year-01-01, end_year-12-31] (within 100 years,
    so two-digit years are unambiguous). Questions are padded to the longest one (29
    characters), answers are 11 (``"_1994-09-27"``). Returns a :class:`SeqTask`.
    """
    if not (1 <= start_year <= end_year <= 9999 and end_year - start_year < 100):
        raise ValueError(f"dates: need 1 <= start_year <= end_year <= 9999 within 100 years, got "
                         f"{start_year}..{end_year}")
    first = datetime.date(start_year, 1, 1).toordinal()
    n_days = datetime.date(end_year, 12, 31).toordinal() - first + 1
    formats = _formats()
    _check_n("dates", n, n_days * len(formats))
    rng = make_rng(seed, "dates")
    seen, questions, answers = set(), [], []
    while len(questions) < n:
        d = datetime.date.fromordinal(first + int(rng.integers(n_days)))
        q = formats[rng.integers(len(formats))](d, rng)
        if q in seen:
            continue
        seen.add(q)
        questions.append(q)
        answers.append(d.isoformat())
    return _build("dates", questions, answers, test_size, rng)
