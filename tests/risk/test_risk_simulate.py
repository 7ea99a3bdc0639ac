import numpy as np

from entrygate.risk.features import FEATURE_NAMES, to_matrix
from entrygate.risk.simulate import SEGMENTS, simulate_history


def test_same_seed_same_history():
    a, b = simulate_history(300, seed=5), simulate_history(300, seed=5)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y) and np.array_equal(a.losses, b.losses)
    assert not np.array_equal(a.X[:50], simulate_history(300, seed=6).X[:50])


def test_labels_losses_and_rows_agree(history):
    assert len(history.X) == len(history.y) == len(history.losses) == len(history.features)
    assert np.array_equal(history.y == 1, history.losses > 0)
    assert (history.trip_values >= history.losses).all()
    assert np.array_equal(history.X, to_matrix(history.features))


def test_population_is_mixed_and_not_trivially_separable(history):
    assert 0.02 < history.y.mean() < 0.12
    rates = {SEGMENTS[s]: history.y[history.segments == s].mean() for s in range(len(SEGMENTS))}
    assert set(rates) == set(SEGMENTS)
    assert rates["honest"] < 0.02
    assert rates["card_tester"] > 0.5 and rates["stolen_card"] > 0.5 and rates["non_payer"] > 0.2
    # Honest shoppers also travel, shop at night and get declined: the signals overlap.
    honest = history.segments == SEGMENTS.index("honest")
    foreign = history.X[:, FEATURE_NAMES.index("foreign_issuer")] == 1
    declined_before = history.X[:, FEATURE_NAMES.index("declines_total")] > 0
    assert foreign[honest].any() and declined_before[honest].any()


def test_history_only_uses_the_past(history):
    first = np.r_[True, history.instruments[1:] != history.instruments[:-1]]
    rows = [history.features[i] for i in np.flatnonzero(first)]
    # An instrument's first admitted entry may follow declined attempts, but never earlier trips.
    assert all(f.trips_total == 0 and f.unpaid_trips == 0 and f.fraud_labels == 0 for f in rows)
