"""Latency on this host: compile and tuning time, steadiness and retest of the timing, the
derived networks timed in TVM and onnxruntime."""
