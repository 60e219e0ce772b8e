"""`python -m codesign.search`: the hardware-aware search (``codesign.search.cli``)."""
import sys

from codesign.search.cli import main

if __name__ == "__main__":
    sys.exit(main())
