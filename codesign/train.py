"""`python -m codesign.train`: train an SR network with L1 loss and Adam, atomic checkpoints and exact resume. The command of ``codesign.sr.train``."""
import sys

from codesign.sr.train import main

if __name__ == "__main__":
    sys.exit(main())
