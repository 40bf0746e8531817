"""Devices on a machine without a GPU (the normal suite): only the CPU is listed, '/GPU:0'
falls back to the CPU with a one-time warning, and device strings read as TensorFlow's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitf as tf
from minitf.framework import device

CPU = "/job:localhost/replica:0/task:0/device:CPU:0"

pytestmark = pytest.mark.skipif(device.gpu_available(), reason="this machine has a GPU")


def test_only_the_cpu_is_listed():
    assert tf.config.list_physical_devices("GPU") == []
    assert [d.device_type for d in tf.config.list_physical_devices()] == ["CPU"]
    assert tf.config.list_physical_devices("cpu")[0].name == "/physical_device:CPU:0"
    assert [d.name for d in tf.config.list_logical_devices()] == ["/device:CPU:0"]
    assert tf.config.experimental.list_physical_devices("GPU") == []
    assert device.ACTIVE is False  # so the CPU path never enters placement


def test_gpu_request_falls_back_to_cpu_with_one_warning(monkeypatch):
    monkeypatch.setitem(device._state, "warned", False)
    with pytest.warns(RuntimeWarning, match=r"no GPU is available.*run on the CPU"):
        with tf.device("/GPU:0"):
            x = tf.constant([1.0, 2.0]) * 3.0
            v = tf.Variable([1.0])
    assert x.device == CPU and v.device == CPU
    np.testing.assert_array_equal(x.numpy(), [3.0, 6.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second request is quiet
        with tf.device("/device:GPU:0"):
            tf.constant(1.0)


def test_device_strings():
    a = tf.constant([1.0])
    assert a.device == CPU and tf.Variable(1.0).device == CPU
    with tf.device("/cpu:0"):
        assert (a + 1.0).device == CPU
    g = tf.Graph()
    with g.as_default():
        t = tf.placeholder(tf.float32, [2]) * 2.0
    assert t.device == CPU


@pytest.mark.parametrize("name,want", [("/GPU:0", ("GPU", 0)), ("gpu:1", ("GPU", 1)),
                                       ("/device:CPU:0", ("CPU", 0)), ("CPU", ("CPU", 0)),
                                       ("/job:localhost/replica:0/task:0/device:GPU:0",
                                        ("GPU", 0))])
def test_parse(name, want):
    assert device.parse(name) == want


def test_bad_device_name():
    with pytest.raises(ValueError, match="cannot parse device name 'TPU:0'"):
        with tf.device("TPU:0"):
            pass
