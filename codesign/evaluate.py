"""`python -m codesign.evaluate`: PSNR/SSIM (Y, shave = scale) of a network, authors' weights, checkpoint or search folder, beside bicubic. The command of ``codesign.sr.evaluate``."""
import sys

from codesign.sr.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
