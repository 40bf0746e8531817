"""``tf.keras.layers``."""

from .base import Layer  # noqa: F401
from .conv import Conv2D  # noqa: F401
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer  # noqa: F401
from .merging import (  # noqa: F401
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .normalization import BatchNormalization  # noqa: F401
from .pooling import (  # noqa: F401
    AveragePooling2D,
    AvgPool2D,
    GlobalAveragePooling2D,
    GlobalAvgPool2D,
    MaxPool2D,
    MaxPooling2D,
)
from .recurrent import (  # noqa: F401
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    Embedding,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    TimeDistributed,
)
from .serialization import deserialize, serialize  # noqa: F401

Convolution2D = Conv2D
