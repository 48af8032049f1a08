#!/usr/bin/env python3
"""Quick PyTorch probe of a trained folder's yes/no answers about catalogue objects (no GGUF, no engine), greedy:
is log p(" Yes.") > log p(" No.") at each answer, and does that agree with the catalogue?
  games    committed twenty-questions games seen by the answerer: the object is only in the [Secret] card
  lessons  questions that name the object next to the attribute ("Is a kettle made of metal?")
The separation (mean log-odds of yes when the truth is yes, minus when it is no) shows learning before the greedy
answers change. The figures in models/README.md for the GGUF come from evaluate.py through llama.cpp; this is for
following a training run (train.py --checkpoint-every).

usage: probe_twenty.py FOLDER [--games 60] [--lessons 40] [--seed 4242]"""
import argparse
import os
import random
import re

import torch

from catalogue import OBJECTS
from corpus import lesson_scene, twenty_scene
from tokenizer import Tokenizer
from train import load_model


def answers(model, tokenizer, text, answerer, yes_id, no_id, context):
    """(truth, log-odds of yes) for every bare Yes./No. line of answerer in text."""
    ids, offsets = tokenizer.encode_with_offsets(text)
    ids, offsets = ids[:context], offsets[:context]
    logits = model(torch.tensor(ids).unsqueeze(0))[0]
    start, found = text.index("\n\n"), []
    while (at := text.find(f"\n{answerer}: ", start)) >= 0:
        begin = start = at + len(answerer) + 2
        reply = text[begin + 1:].split("\n", 1)[0]
        question = text[:at].rsplit("\n", 1)[-1]
        guess = re.search(r"is it an? ([a-z ]+)\?$", question)
        if not reply.startswith(("Yes.", "No.")) or (guess and guess.group(1) in OBJECTS):
            continue  # a guess's answer is about the guess, not the catalogue's attributes
        position = next((i for i, o in enumerate(offsets) if o >= begin), None)
        if position is None:
            break
        found.append((reply.startswith("Yes."), (logits[position - 1, yes_id] - logits[position - 1, no_id]).item()))
    return found


def report(name, results):
    total = len(results)
    right = sum((odds > 0) == truth for truth, odds in results)
    truly_yes = sum(truth for truth, _ in results)
    yes_odds = [o for t, o in results if t]
    no_odds = [o for t, o in results if not t]
    separation = sum(yes_odds) / max(1, len(yes_odds)) - sum(no_odds) / max(1, len(no_odds))
    print(f"{name}: {total} answers, agreement {right / total:.1%} (always-No base rate {1 - truly_yes / total:.1%}), "
          f"says Yes {sum(o > 0 for _, o in results) / total:.1%}, separation {separation:.2f} nats")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--games", type=int, default=60)
    parser.add_argument("--lessons", type=int, default=40)
    parser.add_argument("--seed", type=int, default=4242)
    args = parser.parse_args()
    model = load_model(args.folder)
    tokenizer = Tokenizer.load(os.path.join(args.folder, "tokenizer.json"))
    context = model.cfg["context_length"]
    # Answers are one token each with their full stop ("▁Yes.", "▁No."), as the trainer's tokenizer splits them.
    yes_id, no_id = tokenizer.encode(" Yes.")[-1], tokenizer.encode(" No.")[-1]
    rng = random.Random(args.seed)
    games, lessons = [], []
    with torch.no_grad():
        for _ in range(args.games):
            text, _ = twenty_scene(rng, committed=True, answerer_view=1.0)
            name = text.split("\n", 1)[0].removeprefix("[Character] ").split(",", 1)[0]
            games += answers(model, tokenizer, text, name, yes_id, no_id, context)
        for _ in range(args.lessons):
            text = lesson_scene(rng)
            first_two = [line.split(":", 1)[0] for line in text.split("\n\n", 1)[1].split("\n")[:2]]
            lessons += answers(model, tokenizer, text, first_two[1], yes_id, no_id, context)
    print(args.folder)
    if games:
        report("  games (object in the card)", games)
    if lessons:
        report("  lessons (object named in the question)", lessons)


if __name__ == "__main__":
    main()
