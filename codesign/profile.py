"""`python -m codesign.profile`: time every op instance of the search space on a device. The command of ``codesign.hardware.profile``."""
import sys

from codesign.hardware.profile import main

if __name__ == "__main__":
    sys.exit(main())
