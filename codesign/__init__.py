"""codesign: super-resolution networks searched for a latency budget on a named device.

Four parts, each importing only those before it (``tests/test_import_graph.py`` checks):

- ``codesign.space``: what a network may be: the op table, network tree and plan, supernet,
  sparsestmax, slimmable widths, genotypes and their derivation;
- ``codesign.sr``: what any SR project has: data sets, reference networks and the authors'
  weights, PSNR/SSIM, complexity, checkpoints, training and evaluation;
- ``codesign.hardware``: the space and its networks timed on a device through ``devices``;
- ``codesign.search``: the hardware-aware search: request, plan and run, costs and penalty,
  budget fit, closed loop, self-profiling, report and run folder.

The modules beside them are the commands (``python -m codesign.search|train|evaluate|profile|
measure|models|data``), each a thin entry to its part's ``main``.
"""
