"""tensorflow_lnrnn beside TensorFlow Addons: either import order works and
leaves Addons' registered names (`Addons>...`) pointing at Addons' classes.

Runs where Addons imports (TF <= 2.15); each order in a fresh process.
"""

import os
import subprocess
import sys
import textwrap

import pytest

try:
    import tensorflow_addons  # noqa: F401 (its import is the check)
except Exception as error:
    pytest.skip(f"tensorflow_addons cannot be imported here: {error}", allow_module_level=True)

CHECK = textwrap.dedent(
    """
    import sys, warnings
    warnings.simplefilter("ignore")
    first, second = sys.argv[1:]
    __import__(first)
    __import__(second)
    import tensorflow as tf
    import tensorflow_addons as tfa
    import tensorflow_lnrnn as lnrnn
    objects = tf.keras.utils.get_custom_objects()
    for name in ("LayerNormLSTMCell", "LayerNormSimpleRNNCell"):
        assert objects["Addons>" + name] is getattr(tfa.rnn, name), name
        assert objects["LNRNN>" + name] is getattr(lnrnn, name), name
        assert tf.keras.utils.get_registered_name(getattr(tfa.rnn, name)) == "Addons>" + name
    print("OK")
    """
)


@pytest.mark.parametrize(
    "order", [("tensorflow_addons", "tensorflow_lnrnn"), ("tensorflow_lnrnn", "tensorflow_addons")], ids="-then-".join
)
def test_import_order_does_not_matter(order):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", CHECK, *order], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("OK")
