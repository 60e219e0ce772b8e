"""The hardware-aware search: a request planned and run (``api``, ``cli``), its inputs and cost
tables (``inputs``, ``cost_source``), budget, band and penalty, the single-phase search and
fine-tuning (``train``), the fit into the band, the closed loop and self-profiling on a
reachable device, the report and the run folder. The top of codesign: imports every other part."""
