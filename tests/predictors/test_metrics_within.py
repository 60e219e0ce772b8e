"""predictors.metrics: one definition of "within ±x %" (relative to the measurement), the same for
times and for predicted / measured ratios, and the accuracy summary built on it."""
import numpy as np
import pytest

from predictors.metrics import accuracy, relative_error, within


def test_within_is_relative_to_the_measurement_and_includes_the_bound():
    measured = np.array([10.0, 10.0, 10.0, 4.0])
    predicted = np.array([12.0, 12.5, 7.5, 3.0])    # +20 %, +25 %, -25 %, -25 %
    assert within(measured, predicted, 0.20).tolist() == [True, False, False, False]
    assert within(measured, predicted, 0.25).tolist() == [True, True, True, True]
    # a 25 % under-prediction is not a 20 % one seen from the prediction's side
    assert relative_error(4.0, 3.0) == pytest.approx(0.25)


def test_ratios_use_the_same_definition():
    measured, predicted = np.array([2.0, 5.0, 8.0]), np.array([2.3, 3.9, 9.7])
    assert within(1, predicted / measured, 0.2).tolist() == within(measured, predicted, 0.2).tolist()


def test_accuracy_shares():
    measured = np.array([1.0, 2.0, 4.0, 8.0])
    got = accuracy(measured, measured * np.array([1.04, 1.08, 0.85, 1.0]))
    assert got["within_5pct"] == 0.5 and got["within_10pct"] == 0.75
    assert got["mape_pct"] == pytest.approx(100 * (0.04 + 0.08 + 0.15) / 4)
