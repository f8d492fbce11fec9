#!/usr/bin/env bash
# Several joint bounce runs side by side for one wall-clock budget: the GPU run of
# docs/joint_bounce.md ("A GPU run, and four scenes drawn back from noise"). A step of this small
# model is bound by the host and its kernel launches, not by arithmetic (on an H200, four runs at
# once made 5.6-6.7 steps/s each, at batch 32 or 256, width 128 or 256), so variants share a GPU.
#
#   benchmarks/parallel_joint_fits.sh VIDEO_TOK AUDIO_TOK OUT SECONDS NAME="fit options" [NAME="..."]
#   e.g. ... base="" ramp="--model.flow='{p_bridge_off: 0.1, video_noise_corr: 0.9, clock_ramp: 1.0}'"
#
# 1. Encodes the 20000 training scenes once (`--data.cache_latents`, into OUT/latents) with a
#    one-step fit, so the variants load the same latents instead of racing to write them.
# 2. Starts one `seedkit fit --config seedkit/configs/joint_bounce.yaml` per NAME="options" at once,
#    each stopped by `--trainer.max_time` when SECONDS (counted from this script's start) run out,
#    checkpointing every 500 steps (EVERY) (OUT/NAME/checkpoints, all kept), log in OUT/NAME.log;
#    the steps after the last checkpoint are lost when the time runs out.
# 3. Writes OUT/NAME/ema-step-S.pt: the newest checkpoint's EMA weights alone
#    (`seedkit.lit.export_ema`, a fifth of its size, what sampling uses; `seedkit sample`,
#    `seedkit evaluate` and `demo_joint_variant.py --ckpt` read it like a checkpoint).
# PYTHON (default python3) runs seedkit; OMP_NUM_THREADS per run defaults to 2; NUM_TRAIN 20000.
set -euo pipefail
if [ $# -lt 5 ]; then sed -n 2,19p "$0"; exit 2; fi
V=$1; A=$2; OUT=$3; BUDGET=$4; shift 4
[[ $BUDGET =~ ^[0-9]+$ ]] || { echo "SECONDS must be a whole number of seconds, got $BUDGET" >&2; exit 2; }
PY=${PYTHON:-python3}
N=${NUM_TRAIN:-20000}  # cached training scenes (a smoke test: fewer)
START=$(date +%s)
mkdir -p "$OUT"
fit() {  # fit OUTDIR [options...]
  local dir=$1; shift
  "$PY" -m seedkit.cli fit --config seedkit/configs/joint_bounce.yaml \
    --model.video_tokenizer "$V" --model.audio_tokenizer "$A" --model.val_samples=0 \
    --trainer.precision bf16-mixed --trainer.default_root_dir "$dir" \
    --trainer.logger.init_args.save_dir "$dir" \
    --data.num_train "$N" --data.cache_latents true --data.latent_dir "$OUT/latents" \
    --trainer.val_check_interval 1000 --trainer.limit_val_batches 1 \
    --trainer.callbacks.init_args.dirpath "$dir/checkpoints" \
    --trainer.callbacks.init_args.save_top_k -1 --trainer.callbacks.init_args.every_n_train_steps "${EVERY:-500}" \
    "$@"
}
echo "encoding the latents once: $(date)"
fit "$OUT/encode" --trainer.max_steps 1 --data.num_workers 8 > "$OUT/encode.log" 2>&1 \
  || { tail -30 "$OUT/encode.log"; exit 1; }
left=$(( BUDGET - ($(date +%s) - START) ))
echo "encoded in $(( $(date +%s) - START )) s; training ${left} s"
[ "$left" -gt 0 ] || { echo "SECONDS=$BUDGET: encoding alone took longer, nothing left to train" >&2; exit 1; }
pids=()
for spec in "$@"; do
  name=${spec%%=*}
  eval "opts=(${spec#*=})"  # the options as the shell would split them (quotes keep a dict whole)
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} fit "$OUT/$name" --trainer.max_steps 1000000 \
    --trainer.max_time "$(printf "00:%02d:%02d:%02d" $((left / 3600)) $((left % 3600 / 60)) $((left % 60)))" --data.num_workers 1 "${opts[@]}" > "$OUT/$name.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
for spec in "$@"; do
  name=${spec%%=*}
  "$PY" - "$OUT/$name" <<'EOF' || status=1
import pathlib, re, sys
from seedkit.lit import export_ema
d = pathlib.Path(sys.argv[1])
step = {int(re.search(r"step=(\d+)", p.name)[1]): p for p in d.glob("checkpoints/*step=*.ckpt")}
export_ema(step[max(step)], d / f"ema-step-{max(step)}.pt")
print(d.name, step[max(step)].name, "->", f"ema-step-{max(step)}.pt")
EOF
  grep -E "Error|error" "$OUT/$name.log" | tail -3 || true
done
echo "done in $(( $(date +%s) - START )) s"
exit $status
