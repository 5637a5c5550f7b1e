"""An analogy set written for the King James Bible corpus (``datasets.kjv_bible``).

Each relation is a list of word pairs; the questions are every ordered pair of two different
pairs of one relation, ``(a, b, c, d)`` read "a is to b as c is to d" (the layout of Mikolov
et al.'s question set). Every word occurs at least 20 times in the training split.
"""
import itertools

__all__ = ["KJV_RELATIONS", "kjv_analogy_questions"]

KJV_RELATIONS = {
    "gender": [("father", "mother"), ("son", "daughter"), ("brother", "sister"), ("husband", "wife"),
               ("man", "woman"), ("king", "queen"), ("sons", "daughters"), ("men", "women"),
               ("he", "she"), ("his", "her")],
    "plural": [("son", "sons"), ("king", "kings"), ("priest", "priests"), ("city", "cities"),
               ("nation", "nations"), ("hand", "hands"), ("servant", "servants"), ("prophet", "prophets"),
               ("day", "days"), ("year", "years"), ("house", "houses"), ("daughter", "daughters")],
    "past_tense": [("go", "went"), ("come", "came"), ("say", "said"), ("give", "gave"), ("take", "took"),
                   ("see", "saw"), ("know", "knew"), ("hear", "heard"), ("speak", "spake"), ("bring", "brought")],
    "object_pronoun": [("i", "me"), ("we", "us"), ("he", "him"), ("they", "them"), ("thou", "thee"),
                       ("ye", "you")],
    "possessive": [("i", "my"), ("we", "our"), ("he", "his"), ("they", "their"), ("thou", "thy"),
                   ("ye", "your")],
}


def kjv_analogy_questions(relations=None):
    """``{relation: [(a, b, c, d), ...]}`` from :data:`KJV_RELATIONS` (or the given relations)."""
    rel = KJV_RELATIONS if relations is None else relations
    return {name: [(a, b, c, d) for (a, b), (c, d) in itertools.permutations(pairs, 2)]
            for name, pairs in rel.items()}
