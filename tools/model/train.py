#!/usr/bin/env python3
"""Trains AgentTheater's small role-play model: a Llama-architecture transformer (RMSNorm, rotary positions as
llama.cpp's LLAMA rope type applies them: adjacent pairs, SwiGLU, tied input/output embeddings), so the weights go
into GGUF unchanged. Writes to --out: model.safetensors (F32, tensors already under their GGUF names),
tokenizer.json, config.json and training.json (loss curve, held-out loss). `agent-theater model pack` makes the GGUF.

usage: train.py --corpus corpus.jsonl --out DIR [--seed 1] [--steps N] [--bench]
"""
import argparse
import json
import math
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from tokenizer import BOS, Tokenizer

CONFIG = {"vocab_size": 4096, "embedding_length": 256, "block_count": 6, "head_count": 8, "head_count_kv": 8,
          "feed_forward_length": 640, "context_length": 512, "rope_freq_base": 10000.0, "rms_epsilon": 1e-5}


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(dim)), eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(context, head_dim, base):
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = torch.outer(torch.arange(context, dtype=torch.float32), inv)
    return angles.cos(), angles.sin()


def apply_rope(x, cos, sin):
    """llama.cpp rope mode NORM: rotates (x[2i], x[2i+1]) by position * base^(-2i/d)."""
    b, t, h, d = x.shape
    pairs = x.view(b, t, h, d // 2, 2)
    x0, x1 = pairs[..., 0], pairs[..., 1]
    c, s = cos[:t, None, :], sin[:t, None, :]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).view(b, t, h, d)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, ff = cfg["embedding_length"], cfg["feed_forward_length"]
        self.heads, self.kv_heads, self.head_dim = cfg["head_count"], cfg["head_count_kv"], d // cfg["head_count"]
        self.attn_norm, self.ffn_norm = RMSNorm(d, cfg["rms_epsilon"]), RMSNorm(d, cfg["rms_epsilon"])
        self.attn_q = nn.Linear(d, d, bias=False)
        self.attn_k = nn.Linear(d, self.kv_heads * self.head_dim, bias=False)
        self.attn_v = nn.Linear(d, self.kv_heads * self.head_dim, bias=False)
        self.attn_output = nn.Linear(d, d, bias=False)
        self.ffn_gate, self.ffn_up = nn.Linear(d, ff, bias=False), nn.Linear(d, ff, bias=False)
        self.ffn_down = nn.Linear(ff, d, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        h = self.attn_norm(x)
        q = apply_rope(self.attn_q(h).view(b, t, self.heads, self.head_dim), cos, sin).transpose(1, 2)
        k = apply_rope(self.attn_k(h).view(b, t, self.kv_heads, self.head_dim), cos, sin).transpose(1, 2)
        v = self.attn_v(h).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        if self.kv_heads != self.heads:
            k = k.repeat_interleave(self.heads // self.kv_heads, dim=1)
            v = v.repeat_interleave(self.heads // self.kv_heads, dim=1)
        scores = torch.baddbmm(mask[:t, :t].expand(b * self.heads, t, t), (q * self.head_dim ** -0.5).reshape(b * self.heads, t, -1),
                               k.reshape(b * self.heads, t, -1).transpose(1, 2))
        a = (scores.softmax(-1) @ v.reshape(b * self.heads, t, -1)).view(b, self.heads, t, -1)
        x = x + self.attn_output(a.transpose(1, 2).reshape(b, t, -1))
        h = self.ffn_norm(x)
        return x + self.ffn_down(F.silu(self.ffn_gate(h)) * self.ffn_up(h))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.token_embd = nn.Embedding(cfg["vocab_size"], cfg["embedding_length"])
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg["block_count"]))
        self.output_norm = RMSNorm(cfg["embedding_length"], cfg["rms_epsilon"])
        cos, sin = rope_tables(cfg["context_length"], cfg["embedding_length"] // cfg["head_count"], cfg["rope_freq_base"])
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        mask = torch.full((cfg["context_length"], cfg["context_length"]), float("-inf")).triu(1)
        self.register_buffer("mask", mask, persistent=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02 / (math.sqrt(2 * cfg["block_count"]) if name.endswith(("attn_output.weight", "ffn_down.weight")) else 1))

    def forward(self, ids):
        x = self.token_embd(ids)
        for block in self.blocks:
            x = block(x, self.cos, self.sin, self.mask)
        return F.linear(self.output_norm(x), self.token_embd.weight)

    def gguf_tensors(self):
        """(GGUF name, float32 array) in file order; PyTorch's [out, in] row-major is GGUF's ne = [in, out]."""
        yield "token_embd.weight", self.token_embd.weight
        for i, b in enumerate(self.blocks):
            for name in ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"]:
                yield f"blk.{i}.{name}.weight", getattr(b, name).weight
        yield "output_norm.weight", self.output_norm.weight


def load_safetensors(path):
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
        data = f.read()
    return {name: torch.from_numpy(np.frombuffer(data, dtype=np.float32, count=int(np.prod(h["shape"])), offset=h["data_offsets"][0]).copy()).view(*h["shape"])
            for name, h in header.items() if name != "__metadata__"}


def load_model(folder):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    model = Llama(cfg)
    tensors = load_safetensors(os.path.join(folder, "model.safetensors"))
    with torch.no_grad():
        for name, parameter in model.gguf_tensors():
            parameter.copy_(tensors[name])
    return model.eval()


def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path + ".partial", "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)
    os.replace(path + ".partial", path)


def load_corpus(path, held_out_every):
    train, held = [], []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            (held if i % held_out_every == 0 else train).append(json.loads(line)["text"])
    return train, held


def answer_mask(tokenizer, text):
    """Token ids of text and which of them carry loss under --loss-on answers: in a twenty-questions game seen by the
    answerer, only the answerer's lines (and their line ends); in any other document, every token."""
    ids, offsets = tokenizer.encode_with_offsets(text)
    first = text.split("\n", 1)[0]
    if "the player of twenty questions who has thought" not in first:
        return ids, None
    name = first.removeprefix("[Character] ").split(",", 1)[0]
    spans, start = [], text.index("\n\n")
    while (at := text.find(f"\n{name}:", start)) >= 0:
        begin = at + len(name) + 2
        end = text.find("\n", begin)
        spans.append((begin, end + 1 if end >= 0 else len(text)))
        start = begin
    keep = [any(b <= o < e for b, e in spans) for o in offsets]
    return ids, keep


def document_batches(docs_ids, context, batch, rng, masks=None):
    """Endless batches of whole documents, each from position 0 as the engine sees a prompt; documents of similar
    length go together so padding (ignored by the loss) stays small."""
    order = sorted(range(len(docs_ids)), key=lambda i: len(docs_ids[i]))
    groups = [order[i:i + batch] for i in range(0, len(order), batch)]
    while True:
        rng.shuffle(groups)
        for group in groups:
            length = min(context + 1, max(len(docs_ids[i]) for i in group))
            x = np.full((len(group), length), -100, dtype=np.int64)
            y = np.full((len(group), length), -100, dtype=np.int64)
            for row, i in enumerate(group):
                ids = docs_ids[i][:length]
                x[row, :len(ids)] = ids
                y[row, :len(ids)] = ids
                if masks is not None and masks[i] is not None:
                    y[row, :len(ids)] = np.where(masks[i][:len(ids)], ids, -100)
            inputs = torch.from_numpy(np.where(x[:, :-1] < 0, 0, x[:, :-1]))
            yield inputs, torch.from_numpy(y[:, 1:])


@torch.no_grad()
def evaluate(model, docs_ids, context):
    """Mean next-token loss over held-out documents, each from its first token (as the engine sees a prompt)."""
    model.eval()
    total, count = 0.0, 0
    for ids in docs_ids:
        ids = torch.tensor(ids[: context + 1]).unsqueeze(0)
        logits = model(ids[:, :-1])
        total += F.cross_entropy(logits[0], ids[0, 1:], reduction="sum").item()
        count += ids.shape[1] - 1
    model.train()
    return total / count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=24, help="documents per step")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--loss-on", choices=["all", "answers"], default="all",
                        help="answers: in twenty-questions games seen by the answerer, learn only from the answers")
    parser.add_argument("--answer-weight", type=float, default=1.0,
                        help="weight of yes/no answer tokens (the first token of a line that is a bare \"Yes.\" or \"No.\") in the loss")
    parser.add_argument("--checkpoint-every", type=int, default=0, help="also save the weights every N steps (to OUT/step-N)")
    parser.add_argument("--init", help="continue from this trained folder (its weights and tokenizer): a further stage")
    parser.add_argument("--config", default="{}", help="JSON overriding CONFIG's hyperparameters (e.g. a tiny model for a quick check)")
    parser.add_argument("--bench", action="store_true", help="time 10 steps and exit")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    cfg = {**CONFIG, **json.loads(args.config)}

    started = time.time()
    train_docs, held_docs = load_corpus(args.corpus, 50)
    if args.init:
        tokenizer = Tokenizer.load(os.path.join(args.init, "tokenizer.json"))
        with open(os.path.join(args.init, "config.json")) as f:
            cfg = {k: v for k, v in json.load(f).items() if k != "parameters"}
    else:
        tokenizer = Tokenizer.train(train_docs, cfg["vocab_size"])
    cfg["vocab_size"] = len(tokenizer.tokens)
    tokenizer.save(os.path.join(args.out, "tokenizer.json"))
    masks = None
    if args.loss_on == "answers":
        encoded = [answer_mask(tokenizer, d) for d in train_docs]
        train_ids, masks = [e[0] for e in encoded], [e[1] for e in encoded]
    else:
        train_ids = [tokenizer.encode(d) for d in train_docs]
    train_tokens = sum(map(len, train_ids))
    held_ids = [tokenizer.encode(d) for d in held_docs]
    print(f"train: {len(train_docs)} documents, {train_tokens:,} tokens; held out {len(held_docs)} documents, "
          f"{sum(map(len, held_ids)):,} tokens; vocabulary {cfg['vocab_size']} ({time.time() - started:.0f} s)", file=sys.stderr)
    with open(os.path.join(args.out, "held-out.jsonl"), "w", encoding="utf-8") as f:
        for text in held_docs:
            f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")

    model = load_model(args.init).train() if args.init else Llama(cfg)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {params:,} parameters", file=sys.stderr)
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.95))
    warmup = max(1, args.steps // 20)
    log = []
    context, t0, seen = cfg["context_length"], time.time(), 0
    batches = document_batches(train_ids, context, args.batch, rng, masks)
    # A yes/no answer: " Yes." or " No." (one token each, with the stop) right after a speaker's "Name:" cue.
    answer_ids = torch.tensor([tokenizer.encode(a)[-1] for a in (" Yes.", " No.")])
    cue_ids = torch.tensor([i for i, t in enumerate(tokenizer.tokens) if t.endswith(":") and len(t) > 1])
    steps = 10 if args.bench else args.steps
    for step in range(1, steps + 1):
        lr = args.lr * (step / warmup if step <= warmup else 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (steps - warmup))))
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = next(batches)
        seen += int((y >= 0).sum())
        if args.answer_weight == 1.0:
            loss = F.cross_entropy(model(x).view(-1, cfg["vocab_size"]), y.reshape(-1), ignore_index=-100)
        else:
            losses = F.cross_entropy(model(x).view(-1, cfg["vocab_size"]), y.reshape(-1), ignore_index=-100, reduction="none")
            answer = torch.isin(y.reshape(-1), answer_ids) & torch.isin(x.reshape(-1), cue_ids)
            weights = (y.reshape(-1) >= 0).float() * torch.where(answer, args.answer_weight, 1.0)
            loss = (losses * weights).sum() / weights.sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if args.checkpoint_every and step % args.checkpoint_every == 0 and step < steps:
            folder = os.path.join(args.out, f"step-{step}")
            os.makedirs(folder, exist_ok=True)
            tokenizer.save(os.path.join(folder, "tokenizer.json"))
            with open(os.path.join(folder, "config.json"), "w") as f:
                json.dump({**cfg, "parameters": params}, f, indent=2)
            save_safetensors(os.path.join(folder, "model.safetensors"), model.gguf_tensors())
        elapsed = time.time() - t0
        rate = seen / elapsed
        if step % 10 == 0 or step == steps:
            entry = {"step": step, "loss": round(loss.item(), 4), "lr": lr, "tokens": seen, "seconds": round(elapsed)}
            if step % 200 == 0 or step == steps:
                entry["held_out_loss"] = round(evaluate(model, held_ids[:100], context), 4)
            log.append(entry)
            print(f"step {step}/{steps} loss {loss.item():.3f} {rate:,.0f} tokens/s "
                  + (f"held-out {entry['held_out_loss']:.3f} " if "held_out_loss" in entry else "")
                  + f"eta {(steps - step) * elapsed / step / 60:.0f} min", file=sys.stderr)
    if args.bench:
        return
    held_loss = evaluate(model, held_ids, context)
    cfg["parameters"] = params
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump({"seed": args.seed, "init": args.init, "corpus": os.path.basename(args.corpus), "loss_on": args.loss_on, "answer_weight": args.answer_weight, "steps": steps, "batch": args.batch, "context": context, "lr": args.lr,
                   "train_tokens": train_tokens, "tokens_seen": seen,
                   "held_out_documents": len(held_docs), "held_out_loss": held_loss,
                   "held_out_perplexity": math.exp(held_loss), "seconds": round(time.time() - started), "log": log}, f, indent=1)
    save_safetensors(os.path.join(args.out, "model.safetensors"), model.gguf_tensors())
    print(f"done: held-out loss {held_loss:.4f} (perplexity {math.exp(held_loss):.2f}); written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
