"""Quality benchmarks: reference networks trained here, and the authors' weights against their
published PSNR/SSIM."""
