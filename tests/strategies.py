"""Hypothesis strategies shared by the property tests."""

import numpy as np
from hypothesis import strategies as st


def optional_masks(batch, time):
    """None (no mask), or a random (batch, time) boolean mask."""
    booleans = st.lists(st.booleans(), min_size=batch * time, max_size=batch * time)
    return st.none() | booleans.map(lambda values: np.array(values).reshape(batch, time))
