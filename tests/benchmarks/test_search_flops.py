"""search_flops.csv: a re-run replaces its own rows and keeps the main job's row (codesign.search
at the GPU schedule of benchmarks/gpu_h100.sh)."""
import pandas as pd

from benchmarks.host_rows import replace_rows
from benchmarks.search.search_flops import ROW_KEYS


def test_a_rerun_keeps_the_main_job_row(tmp_path):
    path = tmp_path / "search_flops.csv"
    searched = {"kind": "searched", "name": "trilevel 5G sparsestmax", "machine": "NVIDIA H100 80GB HBM3",
                "search_steps": 600, "finetune_steps": 4000, "psnr": 29.0}
    main_job = {"kind": "main job", "machine": "NVIDIA H100 80GB HBM3", "search_steps": 600,
                "finetune_steps": 4000, "device": "pixel7", "budget": "50 ms", "psnr": 29.9}
    pd.DataFrame([searched, main_job]).to_csv(path, index=False)
    rows = replace_rows(path, pd.DataFrame([{**searched, "psnr": 29.5}]), ROW_KEYS)
    assert sorted(zip(rows.kind, rows.psnr)) == [("main job", 29.9), ("searched", 29.5)]
