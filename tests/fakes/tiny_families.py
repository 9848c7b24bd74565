"""Tiny random-initialised checkpoints of every family the transformers backend loads, offline.

Each builder writes a folder that ``save_pretrained`` would: the family's own config, weights and
processor (its real image processor and chat template conventions, a tokenizer trained in
process with the family's control tokens), so the backend's native-class loading, prompt
rendering and ``generate`` are exercised exactly as for a hub checkpoint. The recipes follow
docs/env.md section 5; every one builds in about a second and is deterministic for a seed.
``BUILDERS`` maps a hub ``model_type`` to its builder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fakes.tiny_vlm import SPECIAL_TOKENS, _train_tokenizer, build_tiny_llava

# Wide initialisation: greedy argmax with clear margins (see tiny_vlm.build_tiny_llava).
_INIT = 0.2
_TEXT = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
         "num_attention_heads": 2, "num_key_value_heads": 2, "max_position_embeddings": 1024,
         "initializer_range": _INIT}


def _template(image: str) -> str:
    """A ChatML-like template whose image parts become ``image`` (newlines as ``{{ '\\n' }}``)."""
    return (
        "{% for message in messages %}<|im_start|>{{ message['role'] }}{{ '\\n' }}"
        "{% if message['content'] is string %}{{ message['content'] }}"
        "{% else %}{% for part in message['content'] %}"
        "{% if part['type'] == 'image' %}" + image +
        "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
        "{% endfor %}{% endif %}<|im_end|>{{ '\\n' }}{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant{{ '\\n' }}{% endif %}"
    )


def _ids(tok: Any, tokens: tuple[str, ...]) -> dict[str, int]:
    return {t: tok.convert_tokens_to_ids(t) for t in (*SPECIAL_TOKENS, *tokens)}


def _save(model: Any, processor: Any, folder: Path, pad: int, eos: int) -> Path:
    model.generation_config.pad_token_id = pad
    model.generation_config.eos_token_id = eos
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_tiny_blip2(folder: Path, *, seed: int = 0) -> Path:
    """BLIP-2: a tiny ViT, Q-Former (4 query tokens) and OPT; ``Blip2Processor`` with no chat
    template, as the hub's BLIP-2 checkpoints ship."""
    import torch
    from transformers import (
        Blip2Config,
        Blip2ForConditionalGeneration,
        Blip2Processor,
        BlipImageProcessor,
    )

    tok = _train_tokenizer()
    ids = _ids(tok, ())
    processor = Blip2Processor(
        image_processor=BlipImageProcessor(size={"height": 32, "width": 32}),
        tokenizer=tok, num_query_tokens=4,
    )
    config = Blip2Config(
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                       "num_attention_heads": 2, "image_size": 32, "patch_size": 16},
        qformer_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                        "num_attention_heads": 2, "encoder_hidden_size": 32,
                        "vocab_size": len(tok)},
        text_config={"model_type": "opt", "vocab_size": len(tok), "hidden_size": 32,
                     "ffn_dim": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "word_embed_proj_dim": 32, "max_position_embeddings": 512,
                     "init_std": _INIT, "bos_token_id": ids["<s>"],
                     "eos_token_id": ids["</s>"], "pad_token_id": ids["<pad>"]},
        num_query_tokens=4, image_token_index=ids["<image>"],
    )
    torch.manual_seed(seed)
    model = Blip2ForConditionalGeneration(config)
    return _save(model, processor, Path(folder), ids["<pad>"], ids["</s>"])


QWEN_TOKENS = ("<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
               "<|image_pad|>", "<|video_pad|>")


def build_tiny_qwen25vl(folder: Path, *, seed: int = 0) -> Path:
    """Qwen2.5-VL: windowed vision tower with 2x2 patch merging, M-RoPE text model."""
    import torch
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
    )
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    tok = _train_tokenizer(QWEN_TOKENS)
    ids = _ids(tok, QWEN_TOKENS)
    size = {"shortest_edge": 56 * 56, "longest_edge": 112 * 112}
    vision = {"patch_size": 14, "merge_size": 2, "temporal_patch_size": 2}
    processor = Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=size, **vision),
        video_processor=Qwen2VLVideoProcessor(size=size, **vision),
        tokenizer=tok,
        chat_template=_template("<|vision_start|><|image_pad|><|vision_end|>"),
    )
    config = Qwen2_5_VLConfig(
        vision_config={"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2,
                       "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2,
                       "window_size": 56, "out_hidden_size": 64, "fullatt_block_indexes": [1]},
        text_config={**_TEXT, "vocab_size": len(tok),
                     "rope_parameters": {"rope_type": "default", "mrope_section": [4, 6, 6],
                                         "rope_theta": 10000.0},
                     "bos_token_id": ids["<s>"], "eos_token_id": ids["<|im_end|>"],
                     "pad_token_id": ids["<pad>"]},
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config)
    return _save(model, processor, Path(folder), ids["<pad>"], ids["<|im_end|>"])


IDEFICS3_TOKENS = ("<|im_start|>", "<|im_end|>", "<fake_token_around_image>",
                   "<end_of_utterance>", "<global-img>",
                   *(f"<row_{i}_col_{j}>" for i in (1, 2) for j in (1, 2)))


def build_tiny_idefics3(folder: Path, *, seed: int = 0) -> Path:
    """Idefics3, the family of SmolVLM-256M: SigLIP-like tower, pixel shuffle, Llama text model;
    32 px images of 8 px patches give (32/8)^2 / 2^2 = 4 image tokens, no tiling."""
    import torch
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessor,
        Idefics3Processor,
    )

    tok = _train_tokenizer(IDEFICS3_TOKENS)
    ids = _ids(tok, IDEFICS3_TOKENS)
    processor = Idefics3Processor(
        image_processor=Idefics3ImageProcessor(
            size={"longest_edge": 32}, max_image_size={"longest_edge": 32},
            do_image_splitting=False,
        ),
        tokenizer=tok, image_seq_len=4, chat_template=_template("<image>"),
    )
    config = Idefics3Config(
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                       "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
        text_config={**_TEXT, "model_type": "llama", "vocab_size": len(tok),
                     "bos_token_id": ids["<s>"], "eos_token_id": ids["<|im_end|>"],
                     "pad_token_id": ids["<pad>"]},
        image_token_id=ids["<image>"], scale_factor=2, pad_token_id=ids["<pad>"],
    )
    torch.manual_seed(seed)
    model = Idefics3ForConditionalGeneration(config)
    return _save(model, processor, Path(folder), ids["<pad>"], ids["<|im_end|>"])


INTERNVL_NAMED = {"start_image_token": "<img>", "end_image_token": "</img>",
                  "context_image_token": "<IMG_CONTEXT>", "video_token": "<video>"}
INTERNVL_TOKENS = ("<|im_start|>", "<|im_end|>", *INTERNVL_NAMED.values())


def build_tiny_internvl(folder: Path, *, seed: int = 0) -> Path:
    """InternVL in the native ``-hf`` layout (InternVLForConditionalGeneration, Qwen2 text)."""
    import torch
    from transformers import (
        GotOcr2ImageProcessor,
        InternVLConfig,
        InternVLForConditionalGeneration,
        InternVLProcessor,
    )
    from transformers.models.internvl.video_processing_internvl import InternVLVideoProcessor

    tok = _train_tokenizer(INTERNVL_TOKENS, INTERNVL_NAMED)
    ids = _ids(tok, INTERNVL_TOKENS)
    processor = InternVLProcessor(
        image_processor=GotOcr2ImageProcessor(size={"height": 28, "width": 28},
                                              crop_to_patches=False),
        video_processor=InternVLVideoProcessor(size={"height": 28, "width": 28}),
        tokenizer=tok, image_seq_length=1, chat_template=_template("<IMG_CONTEXT>"),
    )
    config = InternVLConfig(
        vision_config={"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                       "intermediate_size": 64, "image_size": [28, 28], "patch_size": [14, 14]},
        text_config={**_TEXT, "model_type": "qwen2", "vocab_size": len(tok),
                     "bos_token_id": ids["<s>"], "eos_token_id": ids["<|im_end|>"],
                     "pad_token_id": ids["<pad>"]},
        image_token_id=ids["<IMG_CONTEXT>"], image_seq_length=1, downsample_ratio=0.5,
    )
    torch.manual_seed(seed)
    model = InternVLForConditionalGeneration(config)
    return _save(model, processor, Path(folder), ids["<pad>"], ids["<|im_end|>"])


# hub model_type -> builder of a tiny checkpoint of that family
BUILDERS: dict[str, Callable[..., Path]] = {
    "blip-2": build_tiny_blip2,
    "qwen2_5_vl": build_tiny_qwen25vl,
    "idefics3": build_tiny_idefics3,
    "internvl": build_tiny_internvl,
    "llava": build_tiny_llava,
}
