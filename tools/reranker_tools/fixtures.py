"""Tiny, seeded, random-weight models for the Java tests, exported through the normal `export` path.

Each fixture is built from scratch (tokenizer trained or assembled with the `tokenizers` library,
model initialised from a config under a fixed torch seed) into a scratch directory, then exported
with --save-hf, so OUT/<name>/hf holds the PyTorch model that golden.json was computed from and
`golden --model-dir OUT/<name>` reproduces it. The weights are meaningless; what matters is that
every tokenizer family, head shape, activation, truncation and padding rule the Java side must
mirror produces distinct numbers.
"""

from __future__ import annotations

import json
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import torch

from .export import ExportOptions, export
from .model_dir import (MEDALPACA_PREFIX, MEDALPACA_SUFFIX, MEDALPACA_TEMPLATE, QWEN3_RERANKER_PREFIX,
                        QWEN3_RERANKER_SUFFIX, QWEN3_RERANKER_TEMPLATE, RerankerSettings)
from .pairs import (ENGLISH_SENTENCES, VIETNAMESE_SENTENCES, Pair, default_pairs, english_pairs,
                    english_whitespace_pairs, vietnamese_pairs, vietnamese_whitespace_pairs)

HIDDEN = 32
LAYERS = 2
# Larger than HF's 0.02 default so random models spread their scores: a Java-side tokenization or
# padding mistake then moves logits by far more than the comparison tolerance.
INIT_RANGE = 0.3
MAX_LEN = 64

NLI_LABELS = {0: "contradiction", 1: "entailment", 2: "neutral"}


def _training_texts() -> list[str]:
    """Everything the golden pairs contain, so the trained vocabularies cover them (mostly)."""
    texts = list(ENGLISH_SENTENCES) + list(VIETNAMESE_SENTENCES)
    for pair in english_pairs(8) + vietnamese_pairs(8):
        texts.append(pair["query"])
    return texts


# ---------------------------------------------------------------- tokenizers


def bert_tokenizer(model_max_length: int = MAX_LEN):
    """WordPiece from a word list: short words whole, longer ones only as pieces, plus every character
    as a word start and as ##continuation, so any Latin text tokenizes without [UNK] (CJK/emoji -> [UNK])."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = set()
    for text in _training_texts():
        folded = unicodedata.normalize("NFD", text.lower())
        folded = "".join(c for c in folded if unicodedata.category(c) != "Mn")
        words.update(w for w in re.findall(r"[a-z0-9]+", folded) if len(w) <= 6)
    chars = sorted(set("abcdefghijklmnopqrstuvwxyz0123456789.,:;!?'\"()-–/"))
    suffixes = ["##s", "##ing", "##ed", "##er", "##ers", "##tion", "##ly", "##al"]
    vocab_list = specials + chars + [f"##{c}" for c in chars] + suffixes + sorted(words - set(chars))
    vocab = {token: i for i, token in enumerate(dict.fromkeys(vocab_list))}

    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tok.decoder = decoders.WordPiece(prefix="##")
    return BertTokenizerFast(tokenizer_object=tok, model_max_length=model_max_length, do_lower_case=True,
                             unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
                             mask_token="[MASK]")


_ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def roberta_tokenizer(model_max_length: int = MAX_LEN):
    """Byte-level BPE (GPT-2/RoBERTa style) trained on the English sentences."""
    from tokenizers.implementations import ByteLevelBPETokenizer
    from transformers import RobertaTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(_training_texts(), vocab_size=600, min_frequency=2, special_tokens=_ROBERTA_SPECIALS,
                            show_progress=False)
    specials = dict(model_max_length=model_max_length, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                    cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    # transformers 5's tokenizer classes build their backend from vocab/merges and ignore
    # tokenizer_object (the result would hold the 5 special tokens only).
    data = json.loads(bpe._tokenizer.to_str())
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in data["model"]["merges"]]
    return RobertaTokenizerFast(vocab=data["model"]["vocab"], merges=merges, add_prefix_space=False,
                                trim_offsets=True, **specials)


def xlmr_tokenizer(model_max_length: int = MAX_LEN):
    """A SentencePiece Unigram model trained on Vietnamese legal + English text, converted the way
    transformers converts XLM-R's sentencepiece.bpe.model: Precompiled (nmt_nfkc) normalizer, Metaspace,
    <s> A </s></s> B </s>, fairseq ids (<s>=0 <pad>=1 </s>=2 <unk>=3, <mask> last).

    sentencepiece rather than the `tokenizers` Unigram trainer: the latter is not deterministic from
    run to run, and fixtures must regenerate bit for bit."""
    import io

    import sentencepiece as spm
    from transformers import XLMRobertaTokenizerFast

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_training_texts()), model_writer=model, model_type="unigram", vocab_size=400,
        hard_vocab_limit=False, character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        num_threads=1, minloglevel=2)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "sentencepiece.bpe.model"
        path.write_bytes(model.getvalue())
        # transformers 5 ignores vocab_file in the constructor (its backend would hold the 5 special tokens
        # only); from_pretrained converts the sentencepiece model.
        return XLMRobertaTokenizerFast.from_pretrained(scratch, model_max_length=model_max_length)


def llama_tokenizer(extra_texts: tuple[str, ...] = ()):
    """LLaMA-2 style: BPE with byte fallback (<0x00>..<0xFF>), '▁' word marker via normalizer, bos added,
    <unk>=0 <s>=1 </s>=2 and deliberately no pad token and no length limit (like the real one)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaTokenizerFast

    specials = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    # Train with word-level pieces, then switch to LLaMA's layout (no pre-tokenizer; the normalizer
    # prepends '▁' and turns spaces into '▁'); the learned merges never span a word boundary.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.train_from_iterator(_training_texts() + list(extra_texts), trainers.BpeTrainer(vocab_size=560, special_tokens=specials,
                                                                   min_frequency=2, show_progress=False))
    data = json.loads(tok.to_str())
    # The trainer registers every special token as an added token; LLaMA's byte tokens are plain vocab
    # entries (only reachable through byte fallback, never matched literally in the input text).
    data["added_tokens"] = [t for t in data["added_tokens"] if not t["content"].startswith("<0x")]
    data["pre_tokenizer"] = None
    data["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
    tok = Tokenizer.from_str(json.dumps(data))
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    return LlamaTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                              add_bos_token=True, add_eos_token=False, legacy=False)


# ---------------------------------------------------------------- models


def _bert_config(tokenizer, **kw):
    from transformers import BertConfig

    return BertConfig(vocab_size=len(tokenizer), hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=2,
                      intermediate_size=2 * HIDDEN, max_position_embeddings=MAX_LEN, type_vocab_size=2,
                      pad_token_id=tokenizer.pad_token_id, initializer_range=INIT_RANGE, **kw)


def _roberta_like_config(config_cls, tokenizer, **kw):
    # Position ids start at pad_token_id + 1 = 2, hence + 2 positions for MAX_LEN tokens.
    return config_cls(vocab_size=len(tokenizer), hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=2,
                      intermediate_size=2 * HIDDEN, max_position_embeddings=MAX_LEN + 2, type_vocab_size=1,
                      pad_token_id=1, bos_token_id=0, eos_token_id=2, initializer_range=INIT_RANGE, **kw)


def _save(model, tokenizer, directory: Path) -> Path:
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory, legacy_format=False)
    return directory


def build_bert_cross_encoder(work: Path):
    from transformers import BertForSequenceClassification

    tok = bert_tokenizer()
    return _save(BertForSequenceClassification(_bert_config(tok, num_labels=1)), tok, work / "model"), None


def build_roberta_base(work: Path) -> Path:
    from transformers import RobertaConfig, RobertaForSequenceClassification

    tok = roberta_tokenizer()
    return _save(RobertaForSequenceClassification(_roberta_like_config(RobertaConfig, tok, num_labels=1)), tok,
                 work / "base")


def add_lora_adapter(base_dir: Path, adapter_dir: Path, seed: int = 1234) -> Path:
    """A LoRA adapter on query/value (task SEQ_CLS, so PEFT also saves the classifier head) with random,
    non-zero lora_B (PEFT initialises B to zero: an untrained adapter would not change the output)."""
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(seed)
    base = AutoModelForSequenceClassification.from_pretrained(base_dir, local_files_only=True)
    config = LoraConfig(task_type=TaskType.SEQ_CLS, r=4, lora_alpha=8, lora_dropout=0.0,
                        target_modules=["query", "value"])
    peft_model = get_peft_model(base, config)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.2)
            elif "modules_to_save" in name:
                param.add_(torch.randn_like(param) * 0.05)  # the fine-tuned head differs from the base one
    peft_model.save_pretrained(adapter_dir, safe_serialization=True)
    return adapter_dir


def build_roberta_lora(work: Path):
    base = build_roberta_base(work)
    return base, add_lora_adapter(base, work / "adapter")


def build_xlmr_vi_legal(work: Path):
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    tok = xlmr_tokenizer()
    model = XLMRobertaForSequenceClassification(_roberta_like_config(XLMRobertaConfig, tok, num_labels=1))
    return _save(model, tok, work / "model"), None


def build_xlmr_nli(work: Path):
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    tok = xlmr_tokenizer()
    config = _roberta_like_config(XLMRobertaConfig, tok, num_labels=3, id2label=NLI_LABELS,
                                  label2id={v: k for k, v in NLI_LABELS.items()})
    return _save(XLMRobertaForSequenceClassification(config), tok, work / "model"), None


def build_llama_decoder(work: Path):
    from transformers import LlamaConfig, LlamaForSequenceClassification

    tok = llama_tokenizer()
    config = LlamaConfig(vocab_size=len(tok), hidden_size=HIDDEN, intermediate_size=2 * HIDDEN,
                         num_hidden_layers=LAYERS, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=96, bos_token_id=1, eos_token_id=2, pad_token_id=None,
                         initializer_range=INIT_RANGE, num_labels=1, tie_word_embeddings=False)
    return _save(LlamaForSequenceClassification(config), tok, work / "model"), None


_QWEN_TEXTS = tuple([QWEN3_RERANKER_PREFIX + QWEN3_RERANKER_TEMPLATE + QWEN3_RERANKER_SUFFIX, "yes\nno\nyes\nno"] * 4)
# Prompt words and the answers, so the label words are single tokens ('▁yes', '▁no') of the tiny vocabulary.
_CAUSAL_TEXTS = tuple([MEDALPACA_PREFIX + MEDALPACA_TEMPLATE + MEDALPACA_SUFFIX, "yes no yes no Yes No"] * 4)
CAUSAL_MAX_LEN = 2048
# fp16 only for the tiny LLaMA causal LM. Its fp16 graph used to drift with length (|yes/no logit error|
# 0.2 at 1,587 tokens) because the converter computed the RoPE angles (position x frequency, up to 2,048
# rad, fp16 step 2 there) in fp16; onnx_export.export_fp16 now keeps the rotary subgraph in float32
# (within 1.7e-2 of PyTorch fp32 over these pairs, tolerance 4.2e-2). Dynamic int8 moves its logits by
# 1.2 (random weights at INIT_RANGE 0.3 with 2 layers quantize badly): no int8 variant.
_LLAMA_CAUSAL_VARIANTS = ("fp16",)


def build_llama_causal_lm(work: Path):
    """MedAlpaca's case: a LLaMA causal LM base plus a LoRA adapter (task CAUSAL_LM, q/v projections, random
    non-zero lora_B), merged by the export. 2,048 positions (RoPE), no pad token, like LLaMA."""
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    tok = llama_tokenizer(_CAUSAL_TEXTS)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=HIDDEN, intermediate_size=2 * HIDDEN,
                         num_hidden_layers=LAYERS, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=CAUSAL_MAX_LEN, bos_token_id=1, eos_token_id=2, pad_token_id=None,
                         initializer_range=INIT_RANGE, tie_word_embeddings=False)
    base = _save(LlamaForCausalLM(config), tok, work / "base")
    model = AutoModelForCausalLM.from_pretrained(base, local_files_only=True)
    peft_model = get_peft_model(model, LoraConfig(task_type=TaskType.CAUSAL_LM, r=4, lora_alpha=8, lora_dropout=0.0,
                                                  target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.2)
    peft_model.save_pretrained(work / "adapter", safe_serialization=True)
    return base, work / "adapter"


def causal_pairs() -> list[Pair]:
    """Short prompts, prompts of 1,024-2,048 tokens (not truncated) and far longer ones (truncated), interleaved
    so that every batch mixes them (left padding)."""
    from .pairs import _interleave, long_text

    e, v = ENGLISH_SENTENCES, VIETNAMESE_SENTENCES
    return _interleave(
        short=[
            ("what is kafka streams", e[0]),
            ("what is kafka streams", e[5]),
            ("how does a reranker score a passage", e[1]),
            ("thời hiệu khởi kiện hợp đồng là bao lâu", v[2]),
            ("thời hiệu khởi kiện hợp đồng là bao lâu", v[5]),
            ("crème brûlée café 東京 🙂", e[9]),
            ("restore state after a crash", e[4]),
            ("ai giải quyết tranh chấp đất đai", v[3]),
        ],
        long=[
            ("what is kafka streams", long_text(e, 300, 0)),                       # ~1,100 tokens
            ("how does a reranker score a passage", long_text(e, 450, 1)),         # ~1,700 tokens
            ("thời hiệu khởi kiện hợp đồng là bao lâu", long_text(v, 600, 0)),   # Vietnamese, long
            ("restore state after a crash", long_text(e, 2 * CAUSAL_MAX_LEN + 100, 4)),  # truncated
            (long_text(e, 2 * CAUSAL_MAX_LEN + 100, 3), e[1]),                    # truncated (query side)
        ],
    )


def qwen_tokenizer(extra_texts: tuple[str, ...] = ()):
    """Qwen2/Qwen3 style: byte-level BPE behind Qwen's split regex and NFC, no BOS, <|endoftext|> as pad and
    eos, <|im_start|>/<|im_end|> special, <think>/</think> added (not special), as Qwen3's tokenizer.json."""
    from tokenizers import AddedToken, Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    bpe.train_from_iterator(_training_texts() + list(extra_texts), trainers.BpeTrainer(
        vocab_size=700, min_frequency=2, special_tokens=["<|endoftext|>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    data = json.loads(bpe.to_str())
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in data["model"]["merges"]]
    tok = Qwen2Tokenizer(vocab=data["model"]["vocab"], merges=merges, model_max_length=131072)
    tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tok.add_tokens([AddedToken("<think>", special=False, normalized=False),
                    AddedToken("</think>", special=False, normalized=False)])
    return tok


def build_qwen3_causal_lm(work: Path):
    """Qwen3-Reranker's case: a plain Qwen3 causal LM (q/k norms, tied embeddings, RoPE theta 1e6, 40,960
    positions), no adapter."""
    from transformers import Qwen3Config, Qwen3ForCausalLM

    tok = qwen_tokenizer(_QWEN_TEXTS)
    config = Qwen3Config(vocab_size=len(tok), hidden_size=HIDDEN, intermediate_size=2 * HIDDEN,
                         num_hidden_layers=LAYERS, num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                         max_position_embeddings=40960, rope_parameters={"rope_type": "default", "rope_theta": 1e6},
                         initializer_range=INIT_RANGE, tie_word_embeddings=True,
                         bos_token_id=None, eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
                         pad_token_id=tok.pad_token_id)
    return _save(Qwen3ForCausalLM(config), tok, work / "model"), None


GTE_MAX_LEN = 1024


def gte_pairs() -> list[Pair]:
    """The Vietnamese and English pairs (short; far longer than 1,024 tokens, truncated) plus three whose
    whole text is 512-1,024 tokens (about 570, 850 and 950 with this tokenizer): scored untruncated at
    1,024, so a silent cut at 512 (DJL's default model_max_length) changes their logits. Inserted after
    the first two batches so that each one still mixes short and long pairs; then the edge whitespace pairs."""
    from .pairs import long_text

    v, e = VIETNAMESE_SENTENCES, ENGLISH_SENTENCES
    base = vietnamese_pairs(GTE_MAX_LEN) + english_pairs(GTE_MAX_LEN)[:4]
    middle = [("thời hiệu khởi kiện hợp đồng là bao lâu", long_text(v, 200, 1)),
              ("how does a reranker score a passage", long_text(e, 300, 2)),
              (long_text(v, 110, 3), long_text(v, 230, 6))]
    for at, (q, d) in zip((9, 13, 17), middle):
        base.insert(at, {"query": q, "document": d})
    return base + vietnamese_whitespace_pairs(GTE_MAX_LEN)


def build_gte_vi_legal(work: Path):
    """The Vietnamese legal seed's real architecture: native GteForSequenceClassification (RoPE, 8,192
    positions, one token type) with an XLM-R-style SentencePiece Unigram tokenizer; one label."""
    from transformers import GteConfig, GteForSequenceClassification

    tok = xlmr_tokenizer(model_max_length=8192)
    config = GteConfig(vocab_size=len(tok), hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=2,
                       intermediate_size=2 * HIDDEN, max_position_embeddings=8192, type_vocab_size=1, pad_token_id=1,
                       initializer_range=INIT_RANGE, num_labels=1,
                       rope_parameters={"rope_type": "default", "rope_theta": 160000.0})
    return _save(GteForSequenceClassification(config), tok, work / "model"), None


def build_bi_encoder(work: Path):
    from transformers import BertModel

    tok = bert_tokenizer()
    return _save(BertModel(_bert_config(tok)), tok, work / "model"), None


# ---------------------------------------------------------------- the fixture table


@dataclass
class Fixture:
    name: str
    seed: int
    build: Callable[[Path], tuple[Path, Optional[Path]]]  # scratch dir -> (model dir, adapter dir or None)
    settings: RerankerSettings
    pairs: Callable[[], list[Pair]]  # lengths chosen from the fixture's effective max_length
    export_args: dict = field(default_factory=dict)
    # Reduced-precision variants exported beside model.onnx (the directory contract allows each to be absent).
    variants: tuple[str, ...] = ("fp16", "int8")

    def variant_files(self) -> list[str]:
        return ["model.onnx"] + [f"model.{v}.onnx" for v in self.variants]


FIXTURES: dict[str, Fixture] = {f.name: f for f in [
    Fixture("bert-cross-encoder", 101, build_bert_cross_encoder,
            RerankerSettings(kind="cross-encoder"), lambda: english_pairs(MAX_LEN)),
    # Edge whitespace pairs (texts are scored as given) on a byte-level BPE fixture, a SentencePiece one (gte-vi-legal)
    # and the bi-encoder.
    Fixture("roberta-lora", 102, build_roberta_lora,
            RerankerSettings(kind="cross-encoder"), lambda: english_pairs(MAX_LEN) + english_whitespace_pairs(MAX_LEN)),
    Fixture("xlmr-vi-legal", 103, build_xlmr_vi_legal,
            RerankerSettings(kind="cross-encoder", activation="sigmoid", max_length=48),
            lambda: vietnamese_pairs(48) + english_pairs(48)[:4]),
    Fixture("xlmr-nli-3label", 104, build_xlmr_nli,
            RerankerSettings(kind="cross-encoder", activation="softmax", label_index=1),
            lambda: default_pairs(MAX_LEN)),
    Fixture("llama-decoder", 105, build_llama_decoder,
            RerankerSettings(kind="decoder", max_length=80, pad_token_id=0, query_template="query: {query}",
                             document_template="document: {document}"),
            lambda: english_pairs(80) + vietnamese_pairs(80)[:2]),
    Fixture("llama-causal-lm", 107, build_llama_causal_lm,
            RerankerSettings(kind="causal-lm", padding_side="left", prompt_prefix=MEDALPACA_PREFIX,
                             prompt_template=MEDALPACA_TEMPLATE, prompt_suffix=MEDALPACA_SUFFIX),
            causal_pairs, variants=_LLAMA_CAUSAL_VARIANTS),
    # The >2 GB layout, forced (threshold 0): weights in model.onnx.data beside each graph, as a 7B export has.
    Fixture("llama-causal-lm-external", 107, build_llama_causal_lm,
            RerankerSettings(kind="causal-lm", padding_side="left", prompt_prefix=MEDALPACA_PREFIX,
                             prompt_template=MEDALPACA_TEMPLATE, prompt_suffix=MEDALPACA_SUFFIX),
            causal_pairs, export_args={"external_threshold_bytes": 0}, variants=_LLAMA_CAUSAL_VARIANTS),
    Fixture("qwen3-causal-lm", 108, build_qwen3_causal_lm,
            RerankerSettings(kind="causal-lm", padding_side="left", max_length=CAUSAL_MAX_LEN,
                             prompt_prefix=QWEN3_RERANKER_PREFIX, prompt_template=QWEN3_RERANKER_TEMPLATE,
                             prompt_suffix=QWEN3_RERANKER_SUFFIX),
            causal_pairs),
    Fixture("gte-vi-legal", 109, build_gte_vi_legal,
            RerankerSettings(kind="cross-encoder", activation="sigmoid", max_length=GTE_MAX_LEN),
            gte_pairs),
    Fixture("bi-encoder", 106, build_bi_encoder,
            RerankerSettings(kind="bi-encoder", pooling="mean", normalize=True, query_template="query: {query}",
                             document_template="passage: {document}"),
            lambda: english_pairs(MAX_LEN) + english_whitespace_pairs(MAX_LEN)),
]}


def build_source(name: str, work: Path) -> tuple[Path, Optional[Path]]:
    """Write fixture `name`'s HF model (and adapter) under `work`. Deterministic for a given name."""
    fixture = FIXTURES[name]
    torch.manual_seed(fixture.seed)
    return fixture.build(work)


def fixture_settings(name: str) -> RerankerSettings:
    s = FIXTURES[name].settings
    return RerankerSettings(**{**s.to_json(), "name": name, "version": "1"})


def build_one(out: Path, name: str, log=print) -> Path:
    fixture = FIXTURES[name]
    with tempfile.TemporaryDirectory(prefix=f"fixture-{name}-") as scratch:
        model_dir, adapter_dir = build_source(name, Path(scratch))
        return export(ExportOptions(model=model_dir, adapter=adapter_dir, out=out / name,
                                    settings=fixture_settings(name), fp16="fp16" in fixture.variants,
                                    int8="int8" in fixture.variants, pairs=fixture.pairs(),
                                    golden=True, save_hf=True, strict_variants=True, log=log,
                                    **fixture.export_args))


def build_all(out: Path, names: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        print(f"== {name}")
        build_one(out, name)
    write_index(out)


def write_index(out: Path) -> None:
    """fixtures/README.md: what each directory exercises (regenerated with the fixtures)."""
    from .model_dir import GOLDEN_JSON, RERANKER_JSON

    rows = []
    for name in FIXTURES:
        d = out / name
        if not (d / RERANKER_JSON).is_file():
            continue
        s = json.loads((d / RERANKER_JSON).read_text(encoding="utf-8"))
        g = json.loads((d / GOLDEN_JSON).read_text(encoding="utf-8"))
        size = sum(p.stat().st_size for p in d.rglob("*") if p.is_file())
        rows.append(f"| {name} | {size / 1e6:.2f} MB | {s['kind']} | {g['max_length']} | {g['activation']} | "
                    f"{s['label_index']} | {s['pad_token_id']} | {len(g['pairs'])} |")
    text = "\n".join([
        "# Test fixtures (generated; do not edit)",
        "",
        "Tiny random-weight models written by `python -m reranker_tools fixtures --out fixtures` (from `tools/`).",
        "Each directory follows the model directory contract (see ../README.md); `hf/` holds the PyTorch",
        "model that `golden.json` was computed from (`python -m reranker_tools golden --model-dir fixtures/NAME`).",
        "",
        "| fixture | size | kind | effective max_length | activation | label_index | pad id | pairs |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ])
    (out / "README.md").write_text(text, encoding="utf-8")
