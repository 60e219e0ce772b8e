"""Devices: the catalog (devices.catalog), measurement backends (devices.backends) and the
profile/measure CLIs that turn TVM-compiled kernels and networks into profile CSV rows.

Importing it changes nothing in the process: TVM's CPU thread pool is pinned to the target's
cores when a tvm-local backend is created (devices.tvm_compile.env.pin_runtime_threads)."""
