"""The zoo's six MediaPipe networks (predictors.public.zoo_mediapipe): built as the zoo exports
them, their parameters are the zoo's, they count on the meta device at the zoo's inputs and give
the zoo wrappers' outputs, with the zoo's patches to the port in place."""
import pytest
import torch
from torch import nn

from predictors.public.qaihub_features import feature_row
from predictors.public.zoo_mediapipe import ZOO_MEDIAPIPE

FACE, FACE_LM = "mediapipe_face:FaceDetector", "mediapipe_face:FaceLandmarkDetector"
HAND, HAND_LM = "mediapipe_hand:HandDetector", "mediapipe_hand:HandLandmarkDetector"
POSE, POSE_LM = "mediapipe_pose:PoseDetector", "mediapipe_pose:PoseLandmarkDetector"
# info.yaml "Number of parameters (<component>)" at quic/ai-hub-models 52c080d
ZOO_PARAMS = {FACE: "135K", FACE_LM: "603K", HAND: "1.76M", HAND_LM: "2.01M", POSE: "815K", POSE_LM: "3.36M"}
OUTPUTS = {FACE: [(1, 512, 16), (1, 384, 16), (1, 512, 1), (1, 384, 1)], FACE_LM: [(1,), (1, 468, 3)],
           HAND: [(1, 2944, 18), (1, 2944, 1)], HAND_LM: [(1,), (1,), (1, 21, 3)],
           POSE: [(1, 512, 12), (1, 384, 12), (1, 512, 1), (1, 384, 1)], POSE_LM: [(1,), (1, 25, 4)]}
INPUTS = {FACE: 256, FACE_LM: 192, HAND: 256, HAND_LM: 256, POSE: 128, POSE_LM: 256}


@pytest.fixture(scope="module")
def built():
    return {zoo: builder() for zoo, (builder, _, _) in ZOO_MEDIAPIPE.items()}


@pytest.fixture(scope="module")
def rows(built):
    return {zoo: feature_row(zoo, built[zoo], shape, source) for zoo, (_, shape, source) in ZOO_MEDIAPIPE.items()}


def _depthwise(net: nn.Module) -> list[nn.Conv2d]:
    return [m for m in net.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]


@pytest.mark.parametrize("zoo", sorted(ZOO_PARAMS))
def test_parameter_count_matches_the_zoo(built, zoo):
    net = built[zoo]
    params = sum(p.numel() for p in net.parameters())
    # the converted graph: the (all-zero) depthwise biases stored once per width
    dw = _depthwise(net)
    converted = params - sum(c.bias.numel() for c in dw) + sum({c.in_channels for c in dw})
    figure, unit = float(ZOO_PARAMS[zoo][:-1]), {"K": 1e3, "M": 1e6}[ZOO_PARAMS[zoo][-1]]
    decimals = len(ZOO_PARAMS[zoo][:-1].partition(".")[2])
    assert round(converted / unit, decimals) == figure
    assert abs(params / unit - figure) <= 0.01 * figure


def test_zoo_inputs_and_wrapper_outputs(rows):
    assert {zoo: row["input_shape"] for zoo, row in rows.items()} == {
        zoo: f"1x3x{side}x{side}" for zoo, side in INPUTS.items()}
    for zoo, (builder, shape, _) in ZOO_MEDIAPIPE.items():
        with torch.no_grad():
            outs = builder().eval().to("meta")(torch.empty(*shape, device="meta"))
        assert [tuple(o.shape) for o in outs] == OUTPUTS[zoo], zoo


def test_zoo_padding_patches_set_the_stem_input(built):
    """The zoo pads the face detector's input by 2 all round and the pose detector's by 1-2
    horizontally and 2-2 vertically; the port's own pads (and the others') are 1 at right/bottom."""
    sizes = {}
    for zoo, net in built.items():
        hook = net.stem[1].register_forward_pre_hook(
            lambda _m, inputs, zoo=zoo: sizes.update({zoo: tuple(inputs[0].shape[-2:])}))
        try:
            feature_row(zoo, net, ZOO_MEDIAPIPE[zoo][1], "")
        finally:
            hook.remove()
    assert sizes == {FACE: (260, 260), FACE_LM: (193, 193), HAND: (257, 257), HAND_LM: (257, 257),
                     POSE: (132, 131), POSE_LM: (257, 257)}


def test_blaze_structure(built, rows):
    dw = {zoo: _depthwise(net) for zoo, net in built.items()}
    assert {zoo: len(convs) for zoo, convs in dw.items()} == {
        FACE: 32, FACE_LM: 20, HAND: 41, HAND_LM: 43, POSE: 29, POSE_LM: 65}   # blocks, up units
    assert all(c.kernel_size == ((5, 5) if zoo in (HAND_LM, POSE) else (3, 3))
               for zoo, convs in dw.items() for c in convs)
    for zoo, row in rows.items():
        assert row["n:dwconv"] == len(dw[zoo]) and row["n:matmul"] == 0
        assert row["n:concat"] == (2 if zoo == HAND else 0)     # the zoo's patch returns heads apart
        assert row["n:movement"] > 0                             # TFLite-style zero pads
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in built[HAND].modules()) == 2
    prelus = {zoo: sum(isinstance(m, nn.PReLU) for m in net.modules()) for zoo, net in built.items()}
    assert prelus == {FACE: 0, FACE_LM: 23, HAND: 0, HAND_LM: 0, POSE: 0, POSE_LM: 0}


def test_total_macs(rows):
    # as counted by this implementation, equal to the port's modules (see the module docstring):
    # a guard against an accidental change
    assert {zoo: row["macs"] / 1e9 for zoo, row in rows.items()} == pytest.approx(
        {FACE: 0.1887, FACE_LM: 0.0350, HAND: 0.7028, HAND_LM: 0.3929, POSE: 0.5133, POSE_LM: 0.4105},
        rel=1e-3)
