"""Chapter 14's digit sender: a test image sent to a model server, with the response's
probabilities drawn and the start of its JSON printed."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np


def digit_sender(ask: Callable, images: np.ndarray, labels: np.ndarray):
    """A slider over ``images``; each move calls ``ask(image)`` (the chapter's request, which
    returns the server's JSON answer) and shows the image, a softmax of the logits in its
    ``predictions`` and the first 200 characters of the answer."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    out = widgets.Output()
    pick = widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="test image")

    def send(_=None):
        image = images[pick.value]
        answer = ask(image)
        logits = np.array(answer["predictions"][0])
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        with out:
            out.clear_output(wait=True)
            fig, (a, b) = plt.subplots(1, 2, figsize=(7, 2.5))
            a.imshow(image, cmap="gray")
            a.set_title(f"label {labels[pick.value]}")
            a.axis("off")
            b.bar(range(10), probs)
            b.set_xticks(range(10))
            b.set_ylim(0, 1)
            b.set_title(f"predicted {probs.argmax()}")
            plt.show()
            print(json.dumps(answer)[:200], "...")

    pick.observe(send, names="value")
    send()
    return widgets.VBox([pick, out])
