from devices.list import catalog_table, predictor_accuracy


def test_every_device_line_says_how_accurate_its_predictor_is():
    lines = catalog_table().splitlines()
    assert lines[0].split()[-1] == "predictor_accuracy"
    assert predictor_accuracy("pixel7").startswith("leave-one-sibling-out")
    assert predictor_accuracy("rk3399").startswith("held-out")
    assert predictor_accuracy("eyeriss_sim").startswith("held-out MAPE")
    assert predictor_accuracy("no-such-device") == "no predictor"
