"""`python -m codesign.measure`: whole-network latency of a reference network, genotype or ONNX file on a device. The command of ``codesign.hardware.measure``."""
import sys

from codesign.hardware.measure import main

if __name__ == "__main__":
    sys.exit(main())
