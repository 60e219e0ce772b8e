"""Layer features of a whole network: MACs, bytes and op count per op class, counted on the meta
device (no weights, no data) by intercepting every aten op of one forward pass.

    features = count_features(module, (1, 3, 224, 224))   # {"macs:conv": …, "bytes:conv": …, …}
    python -m predictors.public.qaihub_features --out data/qaihub/features.csv   # needs torchvision

Op classes (`CLASSES`): `conv` (dense and grouped convolutions with a kernel larger than 1×1),
`pwconv` (1×1 convolutions: k² fewer MACs per input read than a k×k one, so an NPU runs them at
another rate), `dwconv` (depthwise: groups = input channels > 1), `matmul` (linear layers,
matrix products), `pool` (max / average pools and means), `elementwise` (binary arithmetic,
normalisations that are not folded), `activation` (ReLU, SiLU, sigmoid, GELU, hard-swish,
clamps …), `concat` (concatenation, stacking), `movement` (copies, pixel shuffle, resize,
padding, zero or reflected). Views (reshape, permute, split)
are free, and eval-mode batch norm is folded into the convolution before it, as the zoo's
converters do. Per class:
`macs:<class>` (multiply-accumulates), `bytes:<class>` (every tensor read and written, weights
included, counted as 4 B per element whatever the deployed precision: a scale the fitted cost
per byte absorbs) and `n:<class>` (op calls).

The CLI builds every 2-D CNN the zoo takes from torchvision (its own `model.py` at the imported
commit calls these builders): the classifiers (`TORCHVISION_MODELS`) at the input the zoo exports
them with (224×224: its shared ImageNet classifier's get_input_spec, `IMAGENET_DIM`) and FCN-ResNet50
(`TORCHVISION_SEGMENTERS`) at 520×520 (its shared DeepLabV3Model's get_input_spec), and the zoo
CNNs from third-party repositories written here (predictors.public.zoo_architectures), and writes
their features. (The zoo's torchvision video nets are 3-D and its ViT a transformer.) It needs
torchvision, which is used here and nowhere else: `pip install --no-deps --target DIR
torchvision==0.28.0`, then `PYTHONPATH=DIR`. The SR models are counted from codesign.models by
benchmarks.prediction.predictor_qaihub.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from codesign_common import public_data
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import Parser, UsageError, check_output_file, cli_main
from predictors.public.zoo_architectures import ZOO_ARCHITECTURES

BYTES_PER_ELEMENT = 4
CLASSES = ("conv", "pwconv", "dwconv", "matmul", "pool", "elementwise", "activation", "concat", "movement")
_OPS = {
    "matmul": ("addmm", "mm", "bmm", "linear", "matmul", "baddbmm"),
    "pool": ("max_pool2d_with_indices", "max_pool2d", "avg_pool2d", "mean", "amax",
             "_adaptive_avg_pool2d", "adaptive_max_pool2d", "sum", "argmax"),
    "elementwise": ("add", "add_", "mul", "mul_", "sub", "sub_", "div", "div_", "rsub",
                    "native_layer_norm", "where", "maximum", "minimum", "pow", "sqrt", "rsqrt"),
    "activation": ("relu", "relu_", "silu", "silu_", "sigmoid", "sigmoid_", "gelu", "hardswish",
                   "hardswish_", "hardsigmoid", "hardsigmoid_", "hardtanh", "hardtanh_",
                   "leaky_relu", "leaky_relu_", "_prelu_kernel", "prelu", "clamp", "clamp_",
                   "clamp_min", "clamp_min_", "tanh", "tanh_", "softmax", "_softmax", "exp"),
    "concat": ("cat", "stack"),
    "movement": ("clone", "copy_", "pixel_shuffle", "pixel_unshuffle", "upsample_nearest2d",
                 "upsample_bilinear2d", "constant_pad_nd", "reflection_pad2d", "_unsafe_index", "repeat",
                 "repeat_interleave", "index", "contiguous"),
}
FREE = ("view", "_unsafe_view", "reshape", "t", "permute", "transpose", "split", "split_with_sizes",
        "expand", "empty", "unsqueeze", "squeeze", "flatten", "as_strided", "as_strided_",
        "native_batch_norm", "_native_batch_norm_legit_no_training", "detach", "alias",
        "slice", "select", "unbind", "chunk", "narrow", "dropout", "_to_copy", "lift_fresh")
OP_CLASS = {op: cls for cls, ops in _OPS.items() for op in ops}
FEATURE_COLUMNS = [f"{kind}:{cls}" for cls in CLASSES for kind in ("macs", "bytes", "n")]
# zoo model id → torchvision builder (the call in the zoo's model.py at the imported commit)
TORCHVISION_MODELS = {
    "resnet18": "resnet18", "resnet50": "resnet50", "resnet101": "resnet101",
    "resnext50": "resnext50_32x4d", "resnext101": "resnext101_32x8d",
    "wideresnet50": "wide_resnet50_2", "mobilenet_v3_large": "mobilenet_v3_large",
    "mobilenet_v3_small": "mobilenet_v3_small", "efficientnet_b0": "efficientnet_b0",
    "efficientnet_b4": "efficientnet_b4", "efficientnet_v2_s": "efficientnet_v2_s",
    "regnet": "regnet_x_3_2gf", "regnet_y_800mf": "regnet_y_800mf", "densenet121": "densenet121",
    "googlenet": "googlenet", "inception_v3": "inception_v3", "squeezenet1_1": "squeezenet1_1",
    "shufflenet_v2": "shufflenet_v2_x0_5", "mnasnet05": "mnasnet0_5",
    "convnext_tiny": "convnext_tiny", "convnext_base": "convnext_base",
}
IMAGENET_INPUT = (1, 3, 224, 224)
# zoo model id → torchvision segmentation builder; the zoo's DeepLabV3Model wraps it (no auxiliary
# head, class indices out) and exports it at 520×520
TORCHVISION_SEGMENTERS = {"fcn_resnet50": "fcn_resnet50"}
SEGMENTATION_INPUT = (1, 3, 520, 520)
FEATURES_CSV = public_data.QAIHUB_DIR / "features.csv"


def _numel(x) -> int:
    if isinstance(x, torch.Tensor):
        return x.numel()
    if isinstance(x, (list, tuple)):
        return sum(_numel(v) for v in x)
    return 0


def _conv_macs(args, out) -> tuple[str, float]:
    """Class and MACs of an aten convolution: each output element takes weight[0] MACs; a
    transposed one's weight is (in, out/groups, k, k), so each *input* element scatters weight[0]."""
    x, weight = args[0], args[1]
    transposed = bool(args[6]) if len(args) > 6 else False
    groups = int(args[8]) if len(args) > 8 else 1
    cin = x.shape[1]
    if groups > 1 and groups == cin:
        cls = "dwconv"
    else:
        cls = "pwconv" if tuple(weight.shape[-2:]) == (1, 1) and not transposed else "conv"
    return cls, float((x if transposed else out).numel() * weight[0].numel())


def _matmul_macs(name: str, args, out) -> float:
    a = args[1] if name in ("addmm", "baddbmm") else args[0]
    return float(out.numel() * a.shape[-1])


class _Counter(TorchDispatchMode):
    """Adds up MACs, bytes and calls per op class of every aten op run under it."""

    def __init__(self):
        super().__init__()
        self.totals = dict.fromkeys(FEATURE_COLUMNS, 0.0)
        self.unknown: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        if name in FREE:
            return out
        macs = 0.0
        if name == "convolution":
            cls, macs = _conv_macs(args, out)
        elif name in OP_CLASS:
            cls = OP_CLASS[name]
            macs = _matmul_macs(name, args, out) if cls == "matmul" else 0.0
        else:
            self.unknown.add(name)
            return out
        self.totals[f"macs:{cls}"] += macs
        self.totals[f"bytes:{cls}"] += BYTES_PER_ELEMENT * (_numel(args) + _numel(out))
        self.totals[f"n:{cls}"] += 1
        return out


def count_features(module: torch.nn.Module, input_shape: tuple[int, ...]) -> dict[str, float]:
    """FEATURE_COLUMNS of one forward pass of ``module`` (moved to the meta device, eval mode)
    on an input of ``input_shape``; ValueError naming aten ops of no known class."""
    module = module.eval().to("meta")
    counter = _Counter()
    with counter, torch.no_grad():
        module(torch.empty(*input_shape, device="meta"))
    if counter.unknown:
        raise ValueError(f"aten ops of no feature class: {', '.join(sorted(counter.unknown))}")
    return counter.totals


def folded_parameter_count(module: torch.nn.Module) -> int:
    """Parameters of ``module`` with every batch norm folded into the layer before it (one bias
    per channel left), as the counts here fold them and as the zoo's info.yaml counts them."""
    norms = (m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    return sum(p.numel() for p in module.parameters()) - sum(m.num_features for m in norms)


def feature_row(model: str, module: torch.nn.Module, input_shape: tuple[int, ...], source: str) -> dict:
    """One features-table row: model id, input shape, params, total MACs, FEATURE_COLUMNS, and
    where the architecture came from."""
    params = sum(p.numel() for p in module.parameters())
    feats = count_features(module, input_shape)
    macs = sum(feats[f"macs:{c}"] for c in CLASSES)
    return {"model": model, "input_shape": "x".join(map(str, input_shape)), "params": params,
            "macs": macs, **feats, "architecture": source}


def _torchvision_models():
    """torchvision.models, importable beside a torch its C extension was not built for: its
    import registers fake kernels for `torchvision::nms`/`qnms`, which need their schemas;
    they are defined here when the extension did not load (no torchvision op runs here)."""
    import torch.library

    if not hasattr(torch.ops, "torchvision") or not hasattr(torch.ops.torchvision, "nms"):
        lib = torch.library.Library("torchvision", "FRAGMENT")
        for op in ("nms", "qnms"):
            lib.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _torchvision_models.keep = lib  # the definitions live as long as the library object
    try:
        import torchvision
        import torchvision.models as tv
    except ImportError as err:
        raise UsageError(f"torchvision is needed to build the zoo's CNNs ({err}); see "
                         f"python -m predictors.public.qaihub_features --help") from None
    return tv, torchvision.__version__


class _Segmenter(torch.nn.Module):
    """A torchvision segmentation network as the zoo exports it: per-pixel class indices."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image)["out"].argmax(1)


def torchvision_features(models=tuple(TORCHVISION_MODELS) + tuple(TORCHVISION_SEGMENTERS)) -> pd.DataFrame:
    """Features of the zoo's torchvision CNNs: the classifiers at IMAGENET_INPUT, the
    segmenters at SEGMENTATION_INPUT. Neither counts the input normalisation the zoo's
    wrappers add (two elementwise ops on the input)."""
    tv, version = _torchvision_models()
    rows = []
    for model in models:
        if model in TORCHVISION_SEGMENTERS:
            builder = TORCHVISION_SEGMENTERS[model]
            module = _Segmenter(getattr(tv.segmentation, builder)(weights=None, weights_backbone=None,
                                                                  aux_loss=False))
            rows.append(feature_row(model, module, SEGMENTATION_INPUT,
                                    f"torchvision {version} models.segmentation.{builder}"))
            continue
        builder = TORCHVISION_MODELS[model]
        extra = {"aux_logits": False, "init_weights": False} if builder in ("googlenet", "inception_v3") else {}
        module = getattr(tv, builder)(weights=None, **extra)
        rows.append(feature_row(model, module, IMAGENET_INPUT, f"torchvision {version} models.{builder}"))
    return pd.DataFrame(rows)


def zoo_architecture_features(models=tuple(ZOO_ARCHITECTURES)) -> pd.DataFrame:
    """Features of the zoo CNNs written here (predictors.public.zoo_architectures), each at the
    input the zoo exports it with."""
    rows = []
    for model in models:
        build, shape, source = ZOO_ARCHITECTURES[model]
        rows.append(feature_row(model, build(), shape, source))
    return pd.DataFrame(rows)


def read_features(path=FEATURES_CSV) -> pd.DataFrame:
    """The carried features table; ValueError (one line) when unreadable or off-schema."""
    try:
        frame = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ValueError(f"cannot read features {path}: {str(err).splitlines()[0]}") from None
    missing = [c for c in ["model", "macs"] + FEATURE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"features {path} lack columns {missing[:4]}")
    if not frame[FEATURE_COLUMNS].map(lambda v: math.isfinite(v) and v >= 0).all().all():
        raise ValueError(f"features {path}: every feature must be a finite number ≥ 0")
    return frame


@cli_main(ValueError)
def main(argv=None) -> None:
    parser = Parser(prog="python -m predictors.public.qaihub_features", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(FEATURES_CSV), help="features CSV to write")
    every = list(TORCHVISION_MODELS) + list(TORCHVISION_SEGMENTERS) + list(ZOO_ARCHITECTURES)
    parser.add_argument("--models", nargs="+", choices=sorted(every), default=every,
                        help="zoo model ids (default: all)")
    args = parser.parse_args(argv)
    out = check_output_file(args.out)
    written_here = [m for m in args.models if m in ZOO_ARCHITECTURES]
    from_torchvision = [m for m in args.models if m not in ZOO_ARCHITECTURES]
    frame = pd.concat([torchvision_features(from_torchvision) if from_torchvision else None,
                       zoo_architecture_features(written_here)], ignore_index=True)
    write_csv_atomic(frame, out)
    print(f"{len(frame)} models -> {Path(out)}")


if __name__ == "__main__":
    main()
