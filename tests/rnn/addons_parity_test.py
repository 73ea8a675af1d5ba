"""Parity with TensorFlow Addons 0.23, from fixtures made by the real Addons.

``scripts/make_addons_fixtures.py`` ran Addons' cells on TensorFlow 2.15 and
saved weights, inputs, outputs and final states. Here our cells get the same
weights and must give the same numbers.
"""

import glob
import json
import os

import numpy as np
import pytest

import tensorflow_lnrnn as lnrnn
from tensorflow_lnrnn.utils.compat import keras
from tensorflow_lnrnn.utils.test_utils import as_list, weight_names

FIXTURE_DIR = os.path.join(os.path.dirname(__file__), "..", "fixtures", "addons")
FIXTURES = sorted(glob.glob(os.path.join(FIXTURE_DIR, "*.npz")))
# Cell families implemented so far; fixtures of others are skipped until they land.
IMPLEMENTED = {name for name in lnrnn.rnn.__all__}


def load(path):
    data = dict(np.load(path))
    meta = json.loads(str(data.pop("meta")))
    weights = [data[f"weight_{i}"] for i in range(len(meta["weight_names"]))]
    states = [data[k] for k in sorted(k for k in data if k.startswith("state_"))]
    return meta, data, weights, states


def test_fixtures_exist():
    assert len(FIXTURES) >= 5


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: os.path.basename(p)[:-4])
def test_outputs_match_addons(path):
    meta, data, weights, states = load(path)
    if meta["class_name"] not in IMPLEMENTED:
        pytest.skip(f"{meta['class_name']} not implemented yet")
    cell = getattr(lnrnn, meta["class_name"])(**meta["kwargs"])
    layer = keras.layers.RNN(cell, return_sequences=True, return_state=True, go_backwards=meta["go_backwards"])
    layer.build((None, None, data["inputs"].shape[-1]))
    # Same weights in the same order (Addons' sublayer prefixes differ for some cells).
    addons_names = [name.removesuffix(":0").split("/")[-1] for name in meta["weight_names"]]
    assert [name.split("/")[-1] for name in weight_names(cell)] == addons_names
    cell.set_weights(weights)
    mask = data["mask"] if meta["masked"] else None
    sequences, *our_states = as_list(layer(data["inputs"], mask=mask))
    np.testing.assert_allclose(sequences, data["sequences"], atol=1e-5, rtol=0)
    assert len(our_states) == len(states)
    for ours, theirs in zip(our_states, states):
        np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=0)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: os.path.basename(p)[:-4])
def test_config_keys_match_addons(path):
    meta, *_ = load(path)
    if meta["class_name"] not in IMPLEMENTED:
        pytest.skip(f"{meta['class_name']} not implemented yet")
    config = getattr(lnrnn, meta["class_name"])(**meta["kwargs"]).get_config()
    # Keras 3's own base cells add `seed` (for their dropout random generator).
    extra = {"seed"} if "seed" in keras.layers.SimpleRNNCell(1).get_config() else set()
    assert set(config) == set(meta["config_keys"]) | extra
