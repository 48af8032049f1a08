#!/usr/bin/env python3
"""Writes DIR/export-check.jsonl: held-out documents with the trainer's token ids and, for the first few, the trained
model's log-probability of each token. The .NET tests check that llama.cpp, running the packed GGUF, tokenizes every
text into exactly these ids and scores the tokens within quantisation error of PyTorch.

usage: export_check.py DIR [--documents 40] [--scored 6]
"""
import argparse
import json
import os

import torch
import torch.nn.functional as F

from tokenizer import Tokenizer
from train import load_model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--scored", type=int, default=6)
    args = parser.parse_args()
    tokenizer = Tokenizer.load(os.path.join(args.folder, "tokenizer.json"))
    model = load_model(args.folder)
    context = model.cfg["context_length"]
    with open(os.path.join(args.folder, "held-out.jsonl"), encoding="utf-8") as f:
        held_out = [json.loads(line)["text"] for line in f]
    # A later stage's own held-out documents (lessons, long cards), when build.sh left them: a quarter of the check.
    later = os.path.join(args.folder, "held-out-stage2.jsonl")
    if os.path.exists(later):
        with open(later, encoding="utf-8") as f:
            stage2 = [json.loads(line)["text"] for line in f][: args.documents // 4]
        first = held_out[: args.documents - len(stage2)]
        texts = [t for pair in zip(first[::3], first[1::3], first[2::3], stage2) for t in pair]
        texts += [t for t in first + stage2 if t not in texts]
    else:
        texts = held_out[: args.documents]
    # Make sure every part of the prompt format appears at least once (the .NET test rebuilds each document).
    for marker in ["[Goals] ", "[Secret] ", "[Style] ", "[Present] ", "(whispering to you): ", "Narrator: ", "User: "]:
        if not any(marker in t for t in texts):
            texts += [t for t in held_out if marker in t][:1]
    with open(os.path.join(args.folder, "export-check.jsonl"), "w", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            ids = tokenizer.encode(text)
            entry = {"text": text, "ids": ids}
            if i < args.scored and len(ids) <= context:
                with torch.no_grad():
                    logits = model(torch.tensor([ids[:-1]]))[0]
                    logprobs = F.log_softmax(logits, -1).gather(1, torch.tensor(ids[1:]).unsqueeze(1)).squeeze(1)
                entry["logprobs"] = [round(x, 5) for x in logprobs.tolist()]
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
    print(f"export check: {len(texts)} documents ({min(args.scored, len(texts))} scored) in {args.folder}/export-check.jsonl")


if __name__ == "__main__":
    main()
