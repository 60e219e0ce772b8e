"""Predictors from public measurements: TVM TopHub kernels, Qualcomm AI Hub networks and
NAS-Bench-201 on 27 devices (HELP), imported unchanged, and transferred to devices with no
measurements of their own by their spec sheets."""
