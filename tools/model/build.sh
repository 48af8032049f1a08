#!/usr/bin/env bash
# Rebuilds the project's role-play model from nothing, deterministically from a seed:
#   corpus (corpus.py) -> tokenizer + training (train.py) -> stages two and three (catalogue lessons, drill games,
#   long cards)
#   -> export check (export_check.py) -> Q8_0 GGUF (agent-theater model pack) -> evaluation through llama.cpp
# Writes models/agent-theater-small.gguf, models/agent-theater-small.check.jsonl and models/evaluation.json.
# Needs Debian's python3-torch and libopenblas0-pthread (without OpenBLAS torch falls back to the reference BLAS,
# ~10x slower); takes about two and a half hours on 2 cores.
#   usage: tools/model/build.sh [--seed N] [--work DIR] [--tokens N] [--steps N]
set -euo pipefail
seed=1 tokens=4000000 steps=600
work="${TMPDIR:-/tmp}/agent-theater-model"
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) seed="$2"; shift ;;
    --work) work="$2"; shift ;;
    --tokens) tokens="$2"; shift ;;
    --steps) steps="$2"; shift ;;
    *) echo "build.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python=/usr/bin/python3
"$python" -c "import torch" 2>/dev/null || { echo "build.sh: PyTorch is needed: apt-get install python3-torch libopenblas0-pthread" >&2; exit 3; }
mkdir -p "$work"
cd "$here"
"$python" corpus.py --seed "$seed" --tokens "$tokens" --out "$work/corpus.jsonl"
"$python" train.py --corpus "$work/corpus.jsonl" --out "$work/trained" --seed "$seed" --steps "$steps"
# Stage two: lessons and drill games that teach the object catalogue (yes/no answers weighted 20x in the loss), and
# scenes with long free-prose cards; one thread, as the shipped model was trained (threads change the rounding).
"$python" corpus.py --seed "$((seed + 1))" --tokens 1500000 --focus twenty --out "$work/corpus-twenty.jsonl"
"$python" train.py --corpus "$work/corpus-twenty.jsonl" --init "$work/trained" --out "$work/stage2" --seed "$((seed + 1))" \
  --steps 480 --batch 12 --lr 1.5e-3 --answer-weight 20 --threads 1
# Stage three: the same mixture again (a new draw, seed 3) for 480 more steps from stage two's weights, on two
# threads; during it, games begin to be answered from the object in the card (probe_twenty.py).
"$python" corpus.py --seed "$((seed + 2))" --tokens 1500000 --focus twenty --out "$work/corpus-twenty-2.jsonl"
"$python" train.py --corpus "$work/corpus-twenty-2.jsonl" --init "$work/stage2" --out "$work/stage3" --seed "$((seed + 2))" \
  --steps 480 --batch 12 --lr 1.5e-3 --answer-weight 20 --threads 2
# The export check reads the main corpus's held-out documents (they cover every part of the prompt format) and a
# quarter from stage two's.
mv "$work/stage3/held-out.jsonl" "$work/stage3/held-out-stage2.jsonl"
cp "$work/trained/held-out.jsonl" "$work/stage3/held-out.jsonl"
"$python" export_check.py "$work/stage3"
cd "$root"
dotnet build src/Client -c Release -v q -nologo
cli=(dotnet src/Client/bin/Release/net10.0/agent-theater.dll)
"${cli[@]}" model pack "$work/stage3" --out models/agent-theater-small.gguf --qtype q8_0
cp "$work/stage3/export-check.jsonl" models/agent-theater-small.check.jsonl
"$python" tools/model/evaluate.py --model models/agent-theater-small.gguf --out models/evaluation.json \
  --agent-theater "${cli[*]}"
