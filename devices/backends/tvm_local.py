"""`tvm-local`: Relax compile, MetaSchedule tuning (JSON database reused), TVM time evaluator."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from devices import tuning_records
from devices.backends.base import Artifact, Backend
from devices.timing import Timing, time_vm
from devices.tvm_compile import fast_math, fused_kernels, subpixel_deconv, tuning
from devices.tvm_compile import layout as tvm_layout
from devices.tvm_compile.env import make_target, pin_runtime_threads

DEFAULT_WORK_DIR = Path(os.environ.get("CODESIGN_TUNING_DIR", Path.home() / ".cache" / "codesign" / "tuning"))


class TvmLocal(Backend):
    """Options: trials (per fused task, at least: devices.tvm_compile.tuning.trial_targets; 0 = untuned), layout (of the convs: NCHW as
    imported, the default, or NHWC; devices.tvm_compile.layout), work_dir (tuning database directory,
    default ~/.cache/codesign/tuning/<device>), repeats, min_repeat_ms, warmup, min_span_s, and the
    TuningSettings knobs builder_timeout_s, runner_timeout_s, trials_per_iter. The default work
    dir is keyed by device and target, since MetaSchedule's records do not filter by target; an
    empty one starts from the records shipped for exactly this target, and a task with no record
    from the records shipped for other targets of its kind, re-measured here (devices.tuning_records).
    Kernels run (while tuning and when timed) on the target's `num-cores` threads
    (tvm_env.pin_runtime_threads), not on TVM's default of half the host's logical CPUs."""

    name = "tvm-local"
    builds_relax = builds_onnx = breaks_down = True

    def __init__(self, device, *, trials: int = 64, layout: str = "NCHW", work_dir=None,
                 repeats: int = 10, min_repeat_ms: float = 100.0, warmup: int = 2,
                 min_span_s: float = 0.0, **knobs):
        super().__init__(device, trials=trials)
        self.target = make_target(device.target)
        self.layout = layout
        if self.layout not in tvm_layout.LAYOUTS:
            raise ValueError(f"unknown layout {self.layout!r}; known: {', '.join(tvm_layout.LAYOUTS)}")
        self.settings = tuning.TuningSettings(trials=trials, **knobs)
        target_id = hashlib.sha1(json.dumps(device.target, sort_keys=True).encode()).hexdigest()[:8]
        self.work_dir = Path(work_dir) if work_dir else DEFAULT_WORK_DIR / f"{device.name}-{target_id}"
        self.repeats, self.min_repeat_ms, self.warmup = repeats, min_repeat_ms, warmup
        self.min_span_s = min_span_s
        self.threads = int(device.target.get("num-cores", 1))
        self._pin_cpu_threads()  # before any TVM kernel (constant folding too) starts the pool

    @property
    def runtime(self) -> str:
        import tvm

        return f"tvm-{tvm.__version__}"

    def tuning_runner(self):
        """MetaSchedule runner used while tuning (local here, RPC in tvm-rpc)."""
        self._pin_cpu_threads()
        return tuning.local_runner(self.settings, self.target)

    def _pin_cpu_threads(self) -> None:
        if self.target.kind.name == "llvm":
            pin_runtime_threads(self.threads)

    def export_cc(self) -> str | None:
        """Compiler for builder artifacts (None: host default)."""
        return None

    def build_relax(self, mod, input_shape: tuple[int, ...]) -> Artifact:
        """Tune the fused tasks of a Relax module (unless trials == 0) and compile it, its
        convs in this backend's layout (the artifact's target names it). Strided transposed
        convs become conv + pixel shuffle first (devices.tvm_compile.subpixel_deconv: TVM would otherwise
        convolve over inserted zeros, 16x the work at stride 4), and tanh and sigmoid become
        vectorisable approximations (devices.tvm_compile.fast_math: TVM calls scalar expf per element)."""
        mod = self._rewritten(mod)
        target_text = f"{self.target} layout={self.layout}"
        tasks = fused_kernels.extract_fused_tasks(mod, self.target)
        summary = fused_kernels.task_summary(tasks)
        if self.settings.trials <= 0:
            return Artifact(tuning.compile_untuned(mod, self.target), input_shape, target_text,
                            0, False, summary, "")
        with tuning.database_lock(self.work_dir):
            tuning_records.seed(self.work_dir, self.device.target)  # an empty database starts from the shipped records
            if tasks:  # tasks without records start from other targets' records, re-measured here
                tuning_records.transfer(tasks, self.work_dir, self.device.target, self.target, self.settings,
                                        self.tuning_runner(), self.export_cc())
                tuning.tune_tasks(tasks, self.target, self.work_dir, self.settings,
                                  self.tuning_runner(), self.export_cc())
            database = tuning.open_database(self.work_dir)
            hits, total = tuning.database_hits(fused_kernels.fuse(mod, self.target), self.target,
                                               database)
            executable = tuning.compile_tuned(mod, self.target, self.work_dir)
        return Artifact(executable, input_shape, target_text, self.settings.trials, True,
                        summary, f"{hits}/{total}")

    def _rewritten(self, mod):
        """`mod` as it is tuned and compiled: sub-pixel deconvs, fast tanh/sigmoid, this layout."""
        return tvm_layout.convert_layout(fast_math.rewrite(subpixel_deconv.rewrite(mod)), self.layout)

    def _tasks(self, module: torch.nn.Module, input_shape: tuple[int, ...]):
        """The network's distinct fused tasks, as build() tunes them."""
        mod = self._rewritten(fused_kernels.relax_from_torch(module, input_shape))
        return fused_kernels.extract_fused_tasks(mod, self.target)

    def trials_spent(self, module: torch.nn.Module, input_shape: tuple[int, ...]) -> int:
        """Trials the tuning database holds for the network's distinct fused tasks (attempted.json:
        what its records rest on, including trials spent while tuning other networks)."""
        attempts = tuning.read_attempts(self.work_dir)
        return sum(attempts.get(tuning.workload_id(t), 0) for t in self._tasks(module, input_shape))

    def record_sources(self, module: torch.nn.Module, input_shape: tuple[int, ...]) -> dict[str, int]:
        """Fused tasks of the network whose best record was transferred from each shipped set,
        re-measured here, or found on this target (`here`; devices.tuning_records.best_sources)."""
        return tuning_records.best_sources(self._tasks(module, input_shape), self.work_dir)

    def build(self, module: torch.nn.Module, input_shape: tuple[int, ...]) -> Artifact:
        return self.build_relax(fused_kernels.relax_from_torch(module, input_shape), input_shape)

    def build_onnx(self, model: bytes | str, input_shape: tuple[int, ...]) -> Artifact:
        return self.build_relax(fused_kernels.relax_from_onnx(model), input_shape)

    def _vm(self, artifact: Artifact):
        """(Relax VM, device, input tensors) of a built artifact."""
        import numpy as np
        import tvm
        from tvm import relax

        self._pin_cpu_threads()
        dev = tvm.device(self.target.get_target_device_type(), 0)
        vm = relax.VirtualMachine(artifact.runnable, dev)
        x = tvm.runtime.tensor(np.random.default_rng(0).standard_normal(artifact.input_shape, dtype="float32"), dev)
        return vm, dev, [x]

    def call(self, artifact: Artifact):
        vm, dev, args = self._vm(artifact)
        main = vm["main"]

        def once():
            main(*args)
            dev.sync()
        return once

    def run(self, artifact: Artifact) -> Timing:
        vm, dev, args = self._vm(artifact)
        return time_vm(vm, dev, args, self.repeats, self.min_repeat_ms, self.warmup, self.min_span_s)

    def breakdown(self, artifact: Artifact, runs: int = 5):
        """Per-call times of the network's VM calls (devices.tvm_compile.kernel_breakdown), on this machine."""
        from devices.tvm_compile.kernel_breakdown import kernel_breakdown

        return kernel_breakdown(*self._vm(artifact), runs=runs)


BACKEND = TvmLocal
