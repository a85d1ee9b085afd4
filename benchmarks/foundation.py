"""Foundation figures: corpus load, masking throughput, bundled-model load and generation speed.

    .venv/bin/python benchmarks/foundation.py

Prints figures; asserts nothing (tests assert behaviour, benchmarks measure).
"""

from __future__ import annotations

import time

from proactive.backends import TransformersChat
from proactive.masking import STRATEGIES, mask_many
from proactive.models import bundled_model_dir
from proactive.policy import question_messages
from proactive.tasks import load_tasks


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    tasks, seconds = timed(load_tasks)
    print(f"load + validate corpus: {len(tasks)} tasks in {seconds * 1000:.0f} ms")
    for strategy in STRATEGIES:
        partials, seconds = timed(lambda s=strategy: [p for seed in range(20) for p in mask_many(tasks, s, seed=seed)])
        print(f"mask ({strategy:<8}): {len(partials) / seconds:,.0f} masked tasks/s")

    _, seconds = timed(bundled_model_dir)
    print(f"bundled model folder ready in {seconds:.1f} s (first call converts the GGUF)")
    chat, seconds = timed(TransformersChat.load)
    print(f"bundled model load: {seconds:.1f} s")

    partial = mask_many(tasks[:1])[0]
    prompt = chat.prompt_text(question_messages(partial))
    new_tokens = 64
    chat.complete(prompt, max_new_tokens=4)  # warm-up
    inputs = chat.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    import torch

    start = time.perf_counter()
    with torch.no_grad():
        out = chat.model.generate(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                                  pad_token_id=chat.tokenizer.eos_token_id)
    seconds = time.perf_counter() - start
    made = out.shape[1] - inputs["input_ids"].shape[1]
    print(f"greedy generation: {made / seconds:.1f} tokens/s ({made} tokens, prompt {inputs['input_ids'].shape[1]} tokens, "
          f"{torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
