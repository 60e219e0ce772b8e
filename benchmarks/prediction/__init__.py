"""Predictor accuracy: on this host's profiles, on public measurements (TopHub, NAS-Bench-201,
Qualcomm AI Hub), transferred between devices, and simulated accelerators."""
