#!/usr/bin/env python3
"""Quick PyTorch probe of a trained folder's twenty-questions answers (no GGUF, no engine): for committed games seen
by the answerer, is log p(" Yes") > log p(" No") at each answer, and does that agree with the catalogue?
The figures that go in models/README.md come from evaluate.py through llama.cpp; this is for iterating on training.

usage: probe_twenty.py FOLDER [--games 200] [--seed 4242]"""
import argparse
import os
import random
import sys

import torch

from corpus import twenty_scene
from tokenizer import Tokenizer
from train import load_model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--games", type=int, default=200)
    parser.add_argument("--seed", type=int, default=4242)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    model = load_model(args.folder)
    tokenizer = Tokenizer.load(os.path.join(args.folder, "tokenizer.json"))
    # answers are one token each with their full stop ("▁Yes.", "▁No."), as the trainer's tokenizer splits them
    yes_id, no_id = tokenizer.encode(" Yes.")[-1], tokenizer.encode(" No.")[-1]
    rng = random.Random(args.seed)
    right = total = said_yes = truly_yes = 0
    with torch.no_grad():
        for _ in range(args.games):
            text, meta = twenty_scene(rng, committed=True, answerer_view=1.0)
            name = text.split("\n", 1)[0].removeprefix("[Character] ").split(",", 1)[0]
            ids, offsets = tokenizer.encode_with_offsets(text)
            logits = model(torch.tensor(ids).unsqueeze(0))[0]
            start = text.index("\n\n")
            while (at := text.find(f"\n{name}: ", start)) >= 0:
                begin = at + len(name) + 2
                start = begin
                word = text[begin + 1:].split(".", 1)[0].split("!", 1)[0]
                if word not in ("Yes", "No") or "You got it" in text[begin:begin + 30] or "It was" in text[begin:begin + 30]:
                    continue
                position = next(i for i, o in enumerate(offsets) if o >= begin)
                says_yes = bool(logits[position - 1, yes_id] > logits[position - 1, no_id])
                right += says_yes == (word == "Yes")
                said_yes += says_yes
                truly_yes += word == "Yes"
                total += 1
    print(f"{args.folder}: {total} answers, agreement {right / total:.1%} (always-No base rate {1 - truly_yes / total:.1%}); "
          f"says Yes {said_yes / total:.1%}, truly Yes {truly_yes / total:.1%}")


if __name__ == "__main__":
    main()
