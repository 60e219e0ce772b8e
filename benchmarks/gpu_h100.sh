#!/usr/bin/env bash
# How the H100 rows of benchmarks/results/{baselines,search_flops}.csv were made: one call on
# an H100 (16 CPU cores), every job a separate process sharing the GPU (so throughput and wall
# times are pessimistic). Run from the repository root; results land in /tmp/res and $OUT.
# The main job (codesign.search --device pixel7 --budget 50ms) is search_flops.csv's row of kind
# `main job`: its report.csv (pixel7_report.csv here) with train_device as machine.
# baselines.csv's other rows came from an earlier call of the same kind: for each of espcn,
# carn_m, imdn, rlfn_ntire and bicubic, `python3 -m benchmarks.quality.baselines --steps 20000 --archs A`
# as its own process (six sharing the GPU, 155-483 s each).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
R=/tmp/res; mkdir -p $R
nvidia-smi -L
S="--steps 600 --warmup-steps 60 --finetune-steps 4000 --batch-size 16 --patch-size 96"
T="timeout -s INT 520"
$T python3 -m benchmarks.quality.baselines --steps 20000 --archs fsrcnn --work /tmp/bw --out $R/baselines_fsrcnn.csv > $R/fsrcnn.log 2>&1 &
for b in 2 5 17 33; do
  $T python3 -m benchmarks.search.search_flops --budgets $b --relaxations '' --refs '' $S --work /tmp/sf --out $R/sf_$b.csv > $R/sf_$b.log 2>&1 &
done
for r in softmax gumbel; do
  $T python3 -m benchmarks.search.search_flops --budgets '' --relaxations $r --relaxation-budget 5 --refs '' $S --work /tmp/sf --out $R/sf_$r.csv > $R/sf_$r.log 2>&1 &
done
$T python3 -m benchmarks.search.search_flops --budgets '' --relaxations '' --refs fsrcnn,espcn,rlfn_ntire,carn_m $S --work /tmp/sf --out $R/sf_refs.csv > $R/sf_refs.log 2>&1 &
$T python3 -m codesign.search --device pixel7 --budget 50ms $S --out /tmp/p7 > $R/pixel7.log 2>&1 &
wait
cp /tmp/p7/report.csv $R/pixel7_report.csv; cp /tmp/p7/search_log.csv $R/pixel7_search_log.csv; cp /tmp/p7/genotype.json $R/pixel7_genotype.json
for f in /tmp/sf/*/search_log.csv; do cp $f $R/searchlog_$(basename $(dirname $f)).csv; done
for f in $R/*.log; do tr '\r' '\n' < $f | grep -v "it/s\]$" | tail -n 25 > $f.tail; mv $f.tail $f; done
tar czf ${OUT:-/tmp}/results.tgz -C /tmp res
ls -la $R; tail -n 5 $R/*.log
