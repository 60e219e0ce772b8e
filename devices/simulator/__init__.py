"""Simulated accelerators: ZigZag-costed Eyeriss-like and Edge-TPU-like arrays (docs/accelerators.md).

`devices.simulator.backend.create(device, array)` gives the `simulator` measurement backend;
its rows follow the profile-CSV schema with provenance `simulated:zigzag`.
"""
