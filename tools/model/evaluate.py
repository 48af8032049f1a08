#!/usr/bin/env python3
"""Measures what the packed GGUF model does, through llama.cpp and AgentTheater's pool (`agent-theater model
generate`), on scenes from a seed the training never saw:

  style       each persona's signature words in its own lines vs in the other characters' lines of the same scene
  twenty-q    answers to yes/no questions when the object is in the answerer's [Secret] (checked against the
              catalogue); the object revealed at the end, committed and uncommitted (consistent with every answer?)
  takeover    after a push into another role, how often the character's next line is in the new role's style, by
              whether its card says to stay in role; and the same words before any push (the base rate)

usage: evaluate.py --model models/agent-theater-small.gguf [--seed 1001] [--scenes 300] [--out results.json]
       [--agent-theater "dotnet src/Client/bin/Release/net10.0/agent-theater.dll"]
"""
import argparse
import json
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile

from catalogue import ATTRIBUTES, OBJECTS, STYLES, TAKEOVER_ROLES, consistent
from corpus import ensemble_scene, takeover_scene, twenty_scene

QUESTION_TO_ATTRIBUTE = {q: a for a, qs in ATTRIBUTES.items() for q in qs}


def own_line_cuts(text, name):
    """(prompt ending in "name:", the line the corpus had there) for each of name's lines after the card."""
    body = text.index("\n\n") + 2
    cue = f"\n{name}:"
    cuts, start = [], body - 1
    while True:
        at = text.find(cue, start)
        if at < 0:
            return cuts
        prompt_end = at + len(cue)
        line_end = text.find("\n", prompt_end)
        cuts.append((text[:prompt_end], text[prompt_end:line_end].strip()))
        start = prompt_end


def has_word(line, word):
    return re.search(r"(?<![A-Za-z])" + re.escape(word.lower()) + r"(?![A-Za-z])", line.lower()) is not None


def build(seed, scenes):
    rng = random.Random(seed)
    prompts, labels = [], {}

    def add(kind, prompt, label, temperature=0.0, max_tokens=48):
        pid = f"{kind}-{len(prompts)}"
        prompts.append({"id": pid, "prompt": prompt, "max_tokens": max_tokens, "temperature": temperature,
                        "seed": rng.randrange(1, 1 << 30), "stop": ["\n"]})
        labels[pid] = {"kind": kind, **label}

    for _ in range(scenes):
        views, cast = ensemble_scene(rng)
        signatures = {p.name: p.signatures for p in cast}
        for persona, view in zip(cast, views):
            for prompt, _ in own_line_cuts(view, persona.name)[:3]:
                add("style", prompt, {"speaker": persona.name, "signatures": signatures}, temperature=0.8)
    for _ in range(scenes):
        text, meta = twenty_scene(rng, committed=rng.random() < 0.5)
        if meta["view"] != "answerer":
            continue
        answerer = text.split(",", 1)[0].removeprefix("[Character] ")
        for prompt, truth in own_line_cuts(text, answerer):
            last = prompt.rsplit("\n", 2)[-2]
            answers = [(QUESTION_TO_ATTRIBUTE[q], a == "Yes")
                       for q, a in re.findall(r"Question \d+: (.+?)\n" + re.escape(answerer) + r": (Yes|No)", prompt)
                       if q in QUESTION_TO_ATTRIBUTE]
            question = re.search(r"Question \d+: (.+)$", last)
            if question and question.group(1) in QUESTION_TO_ATTRIBUTE:
                attribute = QUESTION_TO_ATTRIBUTE[question.group(1)]
                add("answer", prompt, {"committed": meta["committed"], "truth": attribute in OBJECTS[meta["object"]]})
            elif question:
                guessed = re.match(r"is it an? (.+)\?$", question.group(1))
                if guessed:
                    add("guess", prompt, {"committed": meta["committed"], "truth": guessed.group(1) == meta["object"]})
            elif "what was the object" in last:
                add("reveal", prompt, {"committed": meta["committed"], "object": meta["object"], "answers": answers},
                    temperature=0.8)
    for _ in range(scenes):
        views, meta = takeover_scene(rng)
        target_view = views[0]
        role_style = TAKEOVER_ROLES[meta["role"]][0]
        cuts = own_line_cuts(target_view, meta["target"])
        push_line = meta["push"]
        for prompt, _ in cuts:
            before_push = push_line not in prompt
            after_push_first = not before_push and prompt.endswith(push_line + "\n" + meta["target"] + ":")
            if before_push or after_push_first:
                add("takeover", prompt, {"pushed": not before_push, "style": role_style, "role": meta["role"],
                                         "steadfast": meta["steadfast"]}, temperature=0.8)
    return prompts, labels


def answer_of(text):
    t = text.strip().lower()
    return True if t.startswith("yes") else False if t.startswith("no") else None


def revealed_object(text):
    m = re.search(r"it was an? ([a-z ]+?)[.!]", text.lower())
    return m.group(1) if m else None


def score(labels, completions):
    own = cross = own_n = cross_n = 0
    answers = {True: [0, 0], False: [0, 0]}
    guesses = [0, 0]
    reveals = {True: [0, 0, 0, []], False: [0, 0, 0, []]}  # [named a catalogue object, consistent, total, objects]
    takeovers = {}
    for pid, label in labels.items():
        text = completions[pid]["text"]
        kind = label["kind"]
        if kind == "style":
            mine = label["signatures"][label["speaker"]]
            for name, words in label["signatures"].items():
                # Another character's words count only where the speaker's own card does not share them.
                words = words if name == label["speaker"] else [w for w in words if w not in mine]
                if not words:
                    continue
                hit = any(has_word(text, w) for w in words)
                if name == label["speaker"]:
                    own += hit
                    own_n += 1
                else:
                    cross += hit
                    cross_n += 1
        elif kind == "answer":
            a = answer_of(text)
            answers[label["committed"]][0] += a == label["truth"]
            answers[label["committed"]][1] += 1
        elif kind == "guess":
            a = answer_of(text)
            guesses[0] += a == label["truth"]
            guesses[1] += 1
        elif kind == "reveal":
            r = reveals[label["committed"]]
            obj = revealed_object(text)
            r[2] += 1
            if obj in OBJECTS:
                r[0] += 1
                r[3].append(obj)
                ok = obj == label["object"] if label["committed"] else consistent(obj, [tuple(x) for x in label["answers"]])
                r[1] += ok
        elif kind == "takeover":
            key = ("pushed" if label["pushed"] else "not pushed") + (", told to stay in role" if label["steadfast"] else "")
            words = STYLES[label["style"]]["signature"]
            hit = any(has_word(text, w) for w in words)
            t = takeovers.setdefault(key, [0, 0])
            t[0] += hit
            t[1] += 1
    pct = lambda a, b: round(100.0 * a / b, 1) if b else None
    return {
        "style": {"own_signature_rate": pct(own, own_n), "others_signature_rate": pct(cross, cross_n), "own_pairs": own_n, "other_pairs": cross_n},
        "twenty_questions": {
            "committed_answer_consistency": pct(*answers[True]), "committed_answers": answers[True][1],
            "uncommitted_answer_consistency": pct(*answers[False]), "uncommitted_answers": answers[False][1],
            "guess_answer_accuracy": pct(*guesses), "guesses": guesses[1],
            "committed_reveal_correct": pct(reveals[True][1], reveals[True][2]), "committed_reveals": reveals[True][2],
            "uncommitted_reveal_consistent": pct(reveals[False][1], reveals[False][2]), "uncommitted_reveals": reveals[False][2],
            "uncommitted_reveal_distinct_objects": len(set(reveals[False][3])),
        },
        "takeover_follow_rate": {k: {"percent": pct(*v), "lines": v[1]} for k, v in sorted(takeovers.items())},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--seed", type=int, default=1001)
    parser.add_argument("--scenes", type=int, default=300)
    parser.add_argument("--out")
    parser.add_argument("--agent-theater", default="dotnet src/Client/bin/Release/net10.0/agent-theater.dll")
    args = parser.parse_args()
    prompts, labels = build(args.seed, args.scenes)
    with tempfile.TemporaryDirectory() as work:
        prompt_path, out_path = os.path.join(work, "prompts.jsonl"), os.path.join(work, "completions.jsonl")
        with open(prompt_path, "w", encoding="utf-8") as f:
            for p in prompts:
                f.write(json.dumps(p) + "\n")
        print(f"evaluate: {len(prompts)} prompts", file=sys.stderr)
        subprocess.run(shlex.split(args.agent_theater) + ["model", "generate", "--model", args.model, "--prompts", prompt_path,
                                                          "--out", out_path, "--sequences", "64", "--context", "1024"], check=True)
        with open(out_path, encoding="utf-8") as f:
            completions = {c["id"]: c for c in map(json.loads, f)}
    results = {"model": os.path.basename(args.model), "seed": args.seed, "scenes": args.scenes, **score(labels, completions)}
    samples = {}
    for pid, label in labels.items():
        samples.setdefault(label["kind"], []).append({"prompt_tail": prompts[int(pid.rsplit("-", 1)[1])]["prompt"][-160:], "completion": completions[pid]["text"]})
    results["samples"] = {k: v[:4] for k, v in samples.items()}
    text = json.dumps(results, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
