"""A SentencePiece-style tokenizer that llama.cpp runs unchanged (GGUF tokenizer.ggml.model = "llama").

Training learns byte-pair merges inside words. Encoding is llama.cpp's own SPM algorithm (llm_tokenizer_spm_session in
src/llama-vocab.cpp, b7347), written out here: prefix a space, turn spaces into U+2581, start from UTF-8 characters,
repeatedly merge the adjacent pair whose concatenation is the highest-scoring vocabulary entry (ties: leftmost), and
spell any character missing from the vocabulary as <0xXX> byte tokens. Pieces never hold U+2581 except first, nor a
newline, so no merge crosses a word start and words can be encoded one at a time (cached) with the same result.
"""
import collections
import heapq
import json
import re

SPACE = "\u2581"
UNK, BOS, EOS = 0, 1, 2
# llama_token_type: NORMAL=1, UNKNOWN=2, CONTROL=3, USER_DEFINED=4, UNUSED=5, BYTE=6
NORMAL, UNKNOWN, CONTROL, BYTE = 1, 2, 3, 6
_CHUNK = re.compile(f"\n|{SPACE}[^{SPACE}\n]*|[^{SPACE}\n]+")


def escape(text):
    return (" " + text).replace(" ", SPACE)


def chunks(text):
    return _CHUNK.findall(escape(text))


class Tokenizer:
    def __init__(self, tokens, scores, types):
        self.tokens, self.scores, self.types = tokens, scores, types
        self.ids = {t: i for i, t in enumerate(tokens)}
        assert len(self.ids) == len(tokens), "token texts must be unique"
        self.byte_ids = [self.ids[f"<0x{b:02X}>"] for b in range(256)]
        self._cache = {}

    @staticmethod
    def train(texts, vocab_size, min_char_count=5):
        words = collections.Counter()
        for text in texts:
            words.update(chunks(text))
        chars = collections.Counter()
        for word, n in words.items():
            for c in word:
                chars[c] += n
        alphabet = sorted(c for c, n in chars.items() if n >= min_char_count)
        tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
        types = [UNKNOWN, CONTROL, CONTROL] + [BYTE] * 256
        scores = [0.0] * len(tokens)
        for c in alphabet:
            tokens.append(c)
            types.append(NORMAL)
            scores.append(-1e9)
        known = set(tokens)
        # Byte-pair merges over the word list (each word a tuple of symbols, weighted by its count).
        vocab = {tuple(w): n for w, n in words.items() if "\n" not in w or w == "\n"}
        pairs = collections.Counter()
        where = collections.defaultdict(set)
        for word, n in vocab.items():
            for a, b in zip(word, word[1:]):
                pairs[a, b] += n
                where[a, b].add(word)
        rank = 0
        while len(tokens) < vocab_size and pairs:
            (a, b), count = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
            if count < 2:
                break
            merged = a + b
            if merged not in known:
                tokens.append(merged)
                types.append(NORMAL)
                scores.append(-float(rank))
                known.add(merged)
                rank += 1
            for word in list(where[a, b]):
                n = vocab.pop(word, None)
                if n is None:
                    continue
                for x, y in zip(word, word[1:]):
                    pairs[x, y] -= n
                    if pairs[x, y] <= 0:
                        del pairs[x, y]
                    where[x, y].discard(word)
                out, i = [], 0
                while i < len(word):
                    if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                        out.append(merged)
                        i += 2
                    else:
                        out.append(word[i])
                        i += 1
                out = tuple(out)
                vocab[out] = vocab.get(out, 0) + n
                for x, y in zip(out, out[1:]):
                    pairs[x, y] += n
                    where[x, y].add(out)
            pairs.pop((a, b), None)
        return Tokenizer(tokens, scores, types)

    def encode(self, text, bos=True):
        out = [BOS] if bos else []
        for chunk in chunks(text):
            out.extend(self._word(chunk))
        return out

    def encode_with_offsets(self, text):
        """The ids of encode(text) and, for each, where its word starts in text (-1: the added space; BOS: -1)."""
        ids, offsets = [BOS], [-1]
        for match in _CHUNK.finditer(escape(text)):
            pieces = self._word(match.group(0))
            ids.extend(pieces)
            offsets.extend([match.start() - 1] * len(pieces))
        return ids, offsets

    def decode(self, ids):
        data = bytearray()
        for i in ids:
            if self.types[i] == BYTE:
                data.append(int(self.tokens[i][3:5], 16))
            elif self.types[i] == NORMAL:
                data.extend(self.tokens[i].replace(SPACE, " ").encode("utf-8"))
        text = data.decode("utf-8", errors="replace")
        return text[1:] if text.startswith(" ") else text

    def _word(self, chunk):
        """The ids of one word (cached: the corpus repeats its words)."""
        ids = self._cache.get(chunk)
        if ids is None:
            ids = self._cache[chunk] = self._spm(chunk)
        return ids

    def _spm(self, text):
        """llm_tokenizer_spm_session::tokenize, on one word."""
        text_bytes = text.encode("utf-8")
        symbols = []  # [start, length in bytes, prev, next]
        offset = 0
        for i, c in enumerate(text):
            n = len(c.encode("utf-8"))
            symbols.append([offset, n, i - 1, i + 1 if offset + n < len(text_bytes) else -1])
            offset += n
        queue, rev_merge = [], {}

        def piece(sym_left, sym_right_len):
            s = symbols[sym_left]
            return text_bytes[s[0]:s[0] + s[1] + sym_right_len].decode("utf-8")

        def try_add(left, right):
            if left == -1 or right == -1:
                return
            merged = piece(left, symbols[right][1])
            token = self.ids.get(merged)
            if token is None:
                return
            heapq.heappush(queue, (-self.scores[token], left, right, len(merged.encode("utf-8"))))
            rev_merge[merged] = (left, right)

        for i in range(1, len(symbols)):
            try_add(i - 1, i)
        while queue:
            _, left, right, size = heapq.heappop(queue)
            ls, rs = symbols[left], symbols[right]
            if ls[1] == 0 or rs[1] == 0 or ls[1] + rs[1] != size:
                continue
            ls[1] += rs[1]
            rs[1] = 0
            ls[3] = rs[3]
            if rs[3] >= 0:
                symbols[rs[3]][2] = left
            try_add(ls[2], left)
            try_add(left, ls[3])
        out = []

        def resegment(index):
            s = symbols[index]
            piece_text = text_bytes[s[0]:s[0] + s[1]].decode("utf-8")
            token = self.ids.get(piece_text)
            if token is not None:
                out.append(token)
                return
            merge = rev_merge.get(piece_text)
            if merge is None:
                out.extend(self.byte_ids[b] for b in text_bytes[s[0]:s[0] + s[1]])
                return
            resegment(merge[0])
            resegment(merge[1])

        i = 0
        while i != -1:
            resegment(i)
            i = symbols[i][3]
        return out

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"model": "llama", "add_space_prefix": True, "bos_token_id": BOS, "eos_token_id": EOS,
                       "unknown_token_id": UNK, "tokens": self.tokens, "scores": self.scores, "token_types": self.types}, f,
                      ensure_ascii=False)

    @staticmethod
    def load(path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return Tokenizer(data["tokens"], data["scores"], data["token_types"])
