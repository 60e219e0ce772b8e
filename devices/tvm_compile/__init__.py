"""How TVM compiles and tunes a network for a target: Relax rewrites (fast math, fused kernels,
sub-pixel deconvolution, layouts), cross-compilation for remote devices, MetaSchedule tuning and
the per-kernel breakdown of a built module. Used by the TVM backends; imports no backend."""
