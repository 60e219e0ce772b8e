"""The search space and its networks on a device: every op instance timed (``profile``), whole
networks timed (``measure``), through ``devices``. Imports ``codesign.space`` and ``codesign.sr``."""
