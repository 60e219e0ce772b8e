"""Devices: the catalog (devices.catalog), measurement backends (devices.backends) and the
profile/measure CLIs that turn TVM-compiled kernels and networks into profile CSV rows."""
