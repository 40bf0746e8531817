"""``tf.compat.v1``: minitf is already TF1 and TF2 at once, so v1 is minitf itself."""

import sys

v1 = sys.modules["minitf"]
v2 = sys.modules["minitf"]
