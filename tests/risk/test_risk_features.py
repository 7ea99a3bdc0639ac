from datetime import date

import numpy as np

from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import Channel
from entrygate.risk.features import (
    FEATURE_GROUP_INDEX,
    FEATURE_NAMES,
    FEATURE_RISK,
    NEW_INSTRUMENT,
    InstrumentHistory,
    RiskFeatures,
    to_matrix,
    to_vector,
)


def column(name: str) -> int:
    return FEATURE_NAMES.index(name)


def test_vector_is_float32_in_feature_order(make_features):
    f = make_features(entries_1h=3, outstanding_balance=12.5, local_hour=23, party_size=2)
    v = to_vector(f)
    assert v.dtype == np.float32 and v.shape == (len(FEATURE_NAMES),)
    assert v[column("entries_1h")] == 3
    assert v[column("outstanding_balance")] == np.float32(12.5)
    assert v[column("local_hour")] == 23 and v[column("party_size")] == 2
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)


def test_categoricals_are_one_hot(make_features):
    v = to_vector(make_features(brand="AMEX", funding="prepaid", channel=Channel.PALM, foreign_issuer=True))
    brands = [n for n in FEATURE_NAMES if n.startswith("brand_")]
    fundings = [n for n in FEATURE_NAMES if n.startswith("funding_")]
    assert [v[column(n)] for n in brands] == [0, 0, 1, 0, 0]
    assert [v[column(n)] for n in fundings] == [0, 0, 1, 0]
    assert v[column("channel_palm")] == 1 and v[column("foreign_issuer")] == 1
    other = to_vector(make_features(brand="JCB", funding="charge"))
    assert other[column("brand_other")] == 1 and other[column("funding_unknown")] == 1
    assert sum(other[column(n)] for n in brands) == 1


def test_from_parts_reads_the_card_and_the_entry():
    card = CardCredential(payment_token="tok_x", par=None, brand="mastercard", last4="4444",
                          exp_month=3, exp_year=2027, funding=None, issuer_country="GB")
    history = InstrumentHistory(entries_24h=2, trips_total=5, outstanding_balance=7.0)
    f = RiskFeatures.from_parts(history, card=card, channel=Channel.PALM, party_size=2, local_hour=9,
                                store_country="US", today=date(2026, 11, 27))
    assert (f.brand, f.funding, f.foreign_issuer, f.months_to_expiry) == ("MASTERCARD", "unknown", True, 4)
    assert (f.entries_24h, f.trips_total, f.outstanding_balance) == (2, 5, 7.0)
    assert f.channel is Channel.PALM
    unknown_country = RiskFeatures.from_parts(NEW_INSTRUMENT, card=card, channel=Channel.CREDIT_CARD,
                                              party_size=1, local_hour=9, store_country=None,
                                              today=date(2026, 11, 27))
    assert unknown_country.foreign_issuer is False and unknown_country.entries_total == 0


def test_every_feature_speaks_for_one_contract_risk():
    assert set(FEATURE_RISK) == set(FEATURE_NAMES)
    assert len(FEATURE_GROUP_INDEX) == len(FEATURE_NAMES)


def test_matrix_stacks_vectors(make_features):
    rows = [make_features(entries_total=i) for i in range(3)]
    m = to_matrix(rows)
    assert m.shape == (3, len(FEATURE_NAMES)) and m.dtype == np.float32
    assert to_matrix([]).shape == (0, len(FEATURE_NAMES))
