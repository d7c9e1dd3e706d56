"""Scoring as published, against answer sets worked out by hand."""

import pytest

from patients.instruments import GAD7, INSTRUMENTS, PCL5, PHQ9, score


def test_wording_options_and_recall_are_the_published_ones():
    assert len(PHQ9.items) == 9 and len(GAD7.items) == 7 and len(PCL5.items) == 20
    assert str(PHQ9.items[8]) == "Thoughts that you would be better off dead or of hurting yourself in some way"
    assert str(PHQ9.stem).startswith("Over the last 2 weeks, how often have you been bothered")
    assert [str(label) for _, label in PHQ9.options] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    assert GAD7.options == PHQ9.options
    assert str(GAD7.items[0]) == "Feeling nervous, anxious, or on edge"
    assert [str(label) for _, label in PCL5.options] == [
        "Not at all",
        "A little bit",
        "Moderately",
        "Quite a bit",
        "Extremely",
    ]
    assert "in the past month" in str(PCL5.stem)
    assert str(PCL5.items[16]) == 'Being "superalert" or watchful or on guard?'
    assert (PHQ9.max_total, GAD7.max_total, PCL5.max_total) == (27, 21, 80)


@pytest.mark.parametrize("code", ["phq9", "gad7", "pcl5"])
def test_all_zeros_and_all_maximum(code):
    definition = INSTRUMENTS[code]
    n = len(definition.items)

    low = score(code, [0] * n)
    high = score(code, [definition.max_item] * n)

    assert low.total == 0
    assert high.total == definition.max_total


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_band_edges(total, band):
    answers = [0] * 9
    for i in range(total):  # spread the total over the items, at most 3 each
        answers[i % 9] += 1

    result = score("phq9", answers)

    assert result.total == total
    assert result.band.key == band


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_band_edges(total, band):
    answers = [0] * 7
    for i in range(total):
        answers[i % 7] += 1

    result = score("gad7", answers)

    assert (result.total, result.band.key) == (total, band)


def test_phq9_hand_worked_example():
    # 1+2+3+0+1+2+0+1+0 = 10: moderate
    result = score("phq9", [1, 2, 3, 0, 1, 2, 0, 1, 0])

    assert result.total == 10
    assert str(result.band.label) == "Moderate"


def test_pcl5_provisional_cutoff_is_33_by_default_and_set_in_one_place(settings):
    below = [2] * 16 + [0, 0, 0, 0]  # 32
    at = [2] * 16 + [1, 0, 0, 0]  # 33

    assert score("pcl5", below).provisional_positive is False
    assert score("pcl5", below).band.key == "below_cutoff"
    assert score("pcl5", at).total == 33
    assert score("pcl5", at).provisional_positive is True
    assert score("pcl5", at).band.key == "provisional_ptsd"

    settings.PCL5_PROVISIONAL_PTSD_CUTOFF = 31
    assert score("pcl5", [2] * 15 + [1, 0, 0, 0, 0]).provisional_positive is True  # 31


def test_pcl5_cluster_subscores_and_dsm5_pattern():
    # B (1-5): 4+0+0+0+0, C (6-7): 2+0, D (8-14): 2,2,0..., E (15-20): 3,2,0...
    answers = [4, 0, 0, 0, 0, 2, 0, 2, 2, 0, 0, 0, 0, 0, 3, 2, 0, 0, 0, 0]

    result = score("pcl5", answers)

    assert result.total == 15
    assert result.subscores["B"] == 4
    assert result.subscores["C"] == 2
    assert result.subscores["D"] == 4
    assert result.subscores["E"] == 5
    assert result.subscores["dsm5_pattern"] is True  # 1 B, 1 C, 2 D, 2 E rated 2 or more
    assert result.provisional_positive is False

    one_d_short = [*answers]
    one_d_short[8] = 1
    assert score("pcl5", one_d_short).subscores["dsm5_pattern"] is False


@pytest.mark.parametrize(
    ("code", "answers"),
    [
        ("phq9", [0] * 8),
        ("phq9", [0] * 8 + [4]),
        ("gad7", [0] * 7 + [1]),
        ("pcl5", [5] + [0] * 19),
        ("gad7", [-1] + [0] * 6),
    ],
)
def test_wrong_answer_sets_are_refused(code, answers):
    with pytest.raises(ValueError, match="needs"):
        score(code, answers)
