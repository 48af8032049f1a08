#!/usr/bin/env python3
"""Writes the labelled set that `agent-theater takeovers evaluate` measures takeover detection on: whole scenes from
the corpus generator (corpus.py), each labelled by the generator itself, never by judgement:

  comply  a character is pushed into another role (by a User line, whispered or not, the narrator or another
          character) and its later lines are in that role's style
  resist  the same push, and the character holds its role
  none    an ensemble scene with no push at all

One JSON object a line: the scene as structured data (setting, watch_roles, the cast as persona cards with exactly
the fields of the C# PersonaCard, every line with its kind, speaker and whisper target) and the label (kind, target
character id, the index of the push line (the true trigger), the index of the target's first line after it, and for
comply the role it was pushed into). Deterministic from the seed.

usage: labelled_takeovers.py --seed 5000 --per-kind 40 --out tests/labelled/takeovers.jsonl
"""
import argparse
import json
import random
import sys

from catalogue import TAKEOVER_ROLES
from corpus import NARRATOR, ensemble_scene, takeover_scene

KINDS = ("comply", "resist", "none")


def card(persona):
    """A persona card as DialoguePrompt writes it (PersonaCard: id, name, role, goals, private_knowledge, speaking_style)."""
    return {"id": persona.name.lower(), "name": persona.name, "role": persona.role, "goals": list(persona.goals),
            "private_knowledge": list(persona.secret), "speaking_style": persona.style_text}


def record(key, kind, scene):
    ids = {p.name: p.name.lower() for p in scene["cast"]}
    lines = []
    for line in scene["lines"]:
        if line.speaker in ids:
            entry = {"kind": "character", "speaker": ids[line.speaker], "text": line.text}
        else:
            entry = {"kind": "narrator" if line.speaker == NARRATOR else "intervention", "speaker": line.speaker, "text": line.text}
        if line.to is not None:
            entry["to"] = ids[line.to]
        lines.append(entry)
    label = {"kind": kind}
    if kind != "none":
        target = ids[scene["target"].name]
        push = next(i for i, line in enumerate(scene["lines"]) if line is scene["push"])
        reply = next(i for i in range(push + 1, len(lines)) if lines[i]["kind"] == "character" and lines[i]["speaker"] == target)
        label.update(target=target, push_index=push, first_reply_index=reply)
        if kind == "comply":
            label["role"] = scene["role"]
    return {"id": key, "setting": scene["setting"], "watch_roles": list(TAKEOVER_ROLES), "cast": [card(p) for p in scene["cast"]],
            "lines": lines, "label": label}


def generate(seed, per_kind, elaborate):
    rng = random.Random(seed)
    for kind in KINDS:
        for n in range(per_kind):
            scene = {}
            if kind == "none":
                ensemble_scene(rng, elaborate, scene=scene)
            else:
                takeover_scene(rng, comply=kind == "comply", elaborate=elaborate, scene=scene)
            yield record(f"{kind}-{n:03d}", kind, scene)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=5000, help="the corpus is seed 1 and 2; evaluate.py uses 1001")
    parser.add_argument("--per-kind", type=int, default=40, help="scenes of each kind (comply, resist, none)")
    parser.add_argument("--elaborate", type=float, default=0.0, help="share of scenes with elaborated (free-prose) cards")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    records = list(generate(args.seed, args.per_kind, args.elaborate))
    with open(args.out, "w", encoding="utf-8") as out:
        for r in records:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    lines = sum(1 for r in records for line in r["lines"] if line["kind"] == "character")
    print(f"labelled_takeovers: {len(records)} scenes ({args.per_kind} of each of {', '.join(KINDS)}), {lines} character lines, "
          f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
