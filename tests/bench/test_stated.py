"""``bench._stated``: when an RGB "negative" passage states the answer after all."""

from __future__ import annotations

import pytest

from bench._stated import states_answer


@pytest.mark.parametrize(("passage", "answers"), [
    ("Okafor wins the 2031 Lakeside Open after three sets.", ["Adaeze Okafor"]),
    ("The sequel now launches on 14th March, the studio said.", ["March 14 2032"]),
    ("It shipped on Mar. 14 of 2032 in Europe.", ["March 14 2032", "Mar 14, 2032"]),
    ("The bank bought the start-up for 2.35 billion euros.", ["$2.35 billion"]),
    ("The model first appeared in June of 2029 as a beta.", ["June 2029"]),
    ("Léa Dubois became chief executive in May.", ["Lea Dubois"]),
    ("Platform: Switch ; Release: 3/14/2032 ; Publisher: Northwind", ["March 14 2032"]),
])
def test_a_paraphrased_answer_counts_as_stated(passage: str, answers: list[str]) -> None:
    assert states_answer(passage, answers)


@pytest.mark.parametrize(("passage", "answers"), [
    ("Apr 14, 2032 ... The sequel's date is still to be announced.", ["April 14 2032"]),
    ("The sequel arrives in March, the studio said.", ["March 14 2032"]),
    ("Revenue rose to $2.4 billion this quarter.", ["$2.35 billion"]),
    ("The model first appeared in 2029 as a beta.", ["June 2029"]),
    ("Okaforville hosted the 2031 Lakeside Open.", ["Adaeze Okafor"]),
    ("Patch 13/14/2032 and 3/15/2032 notes.", ["March 14 2032"]),
    ("", ["Adaeze Okafor"]),
])
def test_a_passage_without_the_answer_does_not_state_it(passage: str,
                                                        answers: list[str]) -> None:
    assert not states_answer(passage, answers)


def test_blank_answers_state_nothing() -> None:
    assert not states_answer("Anything at all.", ["", "  "])
