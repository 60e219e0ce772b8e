"""What any super-resolution project has: data sets by name and LR/HR pairs (``data``),
reference networks and the authors' weights (``models``), PSNR/SSIM on Y, parameters and MACs,
atomic checkpoints, training and evaluation. Imports ``codesign.space`` only to build a searched
network from its genotype."""
