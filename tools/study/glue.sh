#!/usr/bin/env bash
# GLUE fine-tuning of one study model (issue 17, docs/results.md "Ledger"), started or resumed.
#
#   tools/study/glue.sh NAME TASKS SEEDS [glue options...]
#   e.g. tools/study/glue.sh proj-md5-lr5e-4-s0 wnli,rte,mrpc,stsb,cola 3
#        tools/study/glue.sh scratch-proj-md5 wnli,rte 3 --scratch --variant proj --scheme md5
#
# Fine-tunes $STUDY_DIR/NAME/model (default ~/runs/study) with the reference's recipe
# (`hashformer glue` defaults: lr 1e-4, batch 32, 3 epochs, cosine with restarts) into
# $STUDY_DIR/glue/NAME, one thread (two jobs use the two cores). MODEL=RUN fine-tunes the
# run RUN's model instead, so that one model's tasks can be split over two jobs
# (`MODEL=bpe-lr5e-4-s1 tools/study/glue.sh bpe-lr5e-4-s1-sst2 sst2 3`; `hashformer
# glue-merge` joins them). With --scratch the encoder starts from random weights instead (the
# controls) and NAME only names the output.
# A rerun into the same directory skips the task seeds already finished, so a job stopped
# between sessions loses at most the task seed it was in. When the job ends, its merged
# results (results.json and results.md) are copied to docs/results/study/NAME.{json,md} in
# the work tree, which survives a lost machine where ~/runs may not (docs/results.md,
# "Ledger"). BIN picks the binary (default: the workspace's dev build).
# The body is one brace group, so bash reads all of it before running it: editing this file
# while a run uses it cannot change what that run does next.
{
set -euo pipefail
name=$1 tasks=$2 seeds=$3
shift 3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${STUDY_DIR:-$HOME/runs/study}"
bin="${BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/hashformers/target}/debug/hashformer}"
export HASHFORMER_DATA="${HASHFORMER_DATA:-$here/../shared/data}" RAYON_NUM_THREADS=1
model=()
case " $* " in
  *" --scratch "*) ;;
  *) model=(--model "$dir/${MODEL:-$name}/model") ;;
esac
mkdir -p "$dir/glue" "$here/docs/results/study"
"$bin" glue "${model[@]}" --tasks "$tasks" --seeds "$seeds" --quiet \
  --out "$dir/glue/$name" "$@" >>"$dir/glue/$name.log" 2>&1
cp "$dir/glue/$name/results.json" "$here/docs/results/study/$name.json"
cp "$dir/glue/$name/results.md" "$here/docs/results/study/$name.md"
}
