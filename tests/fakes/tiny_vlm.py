"""Build a tiny, randomly initialised LLaVA checkpoint on disk, entirely offline.

Tests of the transformers backend need a real ``AutoProcessor`` / ``AutoModelForImageTextToText``
round trip (chat template, image tokens, padding, ``generate``) without downloading anything. The
recipe follows docs/env.md section 5: a byte-level BPE tokenizer trained in-process, a
``LlavaProcessor`` built from parameters, and a ``LlavaConfig`` pairing a tiny CLIP vision tower
with a tiny Llama. The whole build takes about a second and is deterministic for a given seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# HF renders chat templates with ``trim_blocks``, so newlines are emitted as ``{{ '\n' }}``.
# Content may be a plain string or a list of parts; image parts become one ``<image>`` token each,
# which the processor expands to the vision tower's patch count.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ message['role'] | upper }}: "
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>{{ '\n' }}"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}"
    "{{ '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)

SPECIAL_TOKENS = ("<pad>", "<s>", "</s>", "<unk>", "<image>")

# Words the tests and the yes/no log-probability code rely on being single tokens.
_ANSWER_WORDS = ("yes", "no", "Yes", "No", " yes", " no", " Yes", " No", "YES", "NO")

_CORPUS = (
    "SYSTEM: You are a helpful assistant. You should provide your opinion.",
    "USER: I am scrolling on video shorts and saw this picture.",
    "Do you like the content of this image? (Yes or No)",
    "Why do you like or dislike this picture?",
    "Describe this image in English briefly.",
    "ASSISTANT: Yes. ASSISTANT: No. yes no Yes No YES NO",
    "I like it because it is fun, calm, bright and colorful.",
    "I do not like it because it is dark, loud and boring.",
    "The image shows a person, a dog, a cat, a beach, a city and a mountain.",
)


def _train_tokenizer(
    extra_special: tuple[str, ...] = (), named: dict[str, str] | None = None
) -> Any:
    """Train a small byte-level BPE so every answer word the tests need is a single token.

    ``extra_special`` are a family's own control tokens (``<|image_pad|>``, ...); ``named`` gives
    some of them the attribute names its processor reads (``start_image_token``, ...).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=[*SPECIAL_TOKENS, *extra_special],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # Repeating the answer words makes BPE merge them into whole tokens.
    corpus = list(_CORPUS) * 4 + list(_ANSWER_WORDS) * 50
    tk.train_from_iterator(corpus, trainer)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        extra_special_tokens=named or {},
    )
    tok.add_special_tokens({"additional_special_tokens": ["<image>", *extra_special]})
    split = [w for w in _ANSWER_WORDS if len(tok.encode(w, add_special_tokens=False)) != 1]
    if split:  # a corpus edit must not silently break the yes/no log-probability tests
        raise RuntimeError(f"answer words are not single tokens: {split}")
    return tok


def build_tiny_llava(folder: Path, *, seed: int = 0) -> Path:
    """Write a tiny LLaVA (processor + weights) to ``folder`` and return it.

    The weights are random but fixed by ``seed``, so greedy outputs are reproducible across runs
    and the backend's batched and unbatched paths can be compared token for token.
    """
    import torch
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = _train_tokenizer()
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessor(
            size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64}
        ),
        tokenizer=tok,
        patch_size=16,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=CHAT_TEMPLATE,
    )
    ids = {t: tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=64,
            patch_size=16,
        ),
        text_config=LlamaConfig(
            vocab_size=len(tok),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=512,
            # Wider than the 0.02 default so greedy argmax has clear margins and cannot flip on
            # float noise between padded and unpadded runs.
            initializer_range=0.2,
            bos_token_id=ids["<s>"],
            eos_token_id=ids["</s>"],
            pad_token_id=ids["<pad>"],
        ),
        image_token_id=ids["<image>"],
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config)
    model.generation_config.pad_token_id = ids["<pad>"]
    model.generation_config.bos_token_id = ids["<s>"]
    model.generation_config.eos_token_id = ids["</s>"]
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
