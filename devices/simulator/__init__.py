"""Simulated accelerators: ZigZag-costed Eyeriss-like and Edge-TPU-like arrays (docs/accelerators.md).

`devices.backends.for_device(device, "simulator")` gives the `simulator` measurement backend
(devices/backends/simulator.py); its rows follow the profile-CSV schema with provenance
`simulated:zigzag`.
"""
