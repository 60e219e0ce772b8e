"""`python -m codesign.data`: standard SR data sets by name: fetch, verify, list. The command of ``codesign.sr.data.cli``."""
import sys

from codesign.sr.data.cli import main

if __name__ == "__main__":
    sys.exit(main())
