"""Straightforward pandas version of the data benchmark: load both ED pair files, rebuild dialogues,
cut generation items, and build the balanced DPO set (3 negatives per prompt from the plutchik-1
opposite emotion). Prints the best and median wall time in ms as JSON on stdout."""
import json, sys, time
import numpy as np
import pandas as pd

PLUTCHIK_1 = json.loads(sys.argv[2])
FILES = sys.argv[1].split(",")
K = 3
RUNS = int(sys.argv[3]) if len(sys.argv) > 3 else 5


def run():
    df = pd.concat([pd.read_csv(f, index_col=0) for f in FILES], ignore_index=True)
    df = df.sort_values(["conv_id", "utterance_idx"])
    dialogues = []
    for conv_id, g in df.groupby("conv_id", sort=True):
        turns = [g["sp1"].iloc[0]] + list(g["sp2"])
        dialogues.append((conv_id, g["context"].iloc[0], turns))
    items = []
    for conv_id, emotion, turns in dialogues:
        n = len(turns)
        t = n - 1 if n % 2 == 0 else n - 2
        if t < 1:
            continue
        prompt = [{"role": "user" if i % 2 == 0 else "assistant", "content": turns[i]} for i in range(t)]
        items.append({"id": conv_id, "emotion": emotion, "prompt": prompt, "target": turns[t]})
    items_df = pd.DataFrame(items)
    rng = np.random.default_rng(0)
    rows = []
    by_emotion = {e: g for e, g in items_df.groupby("emotion")}
    for emotion, group in by_emotion.items():
        pool = by_emotion.get(PLUTCHIK_1[emotion])
        if pool is None:
            continue
        for _, item in group.iterrows():
            cands = pool[(pool["id"] != item["id"]) & (pool["target"] != item["target"])]
            picks = cands.sample(n=min(K, len(cands)), random_state=rng)
            for draw, (_, rej) in enumerate(picks.iterrows()):
                rows.append({"prompt": item["prompt"], "chosen": [{"role": "assistant", "content": item["target"]}],
                             "rejected": [{"role": "assistant", "content": rej["target"]}],
                             "provenance": {"dialogueId": item["id"], "emotion": emotion, "rejectedEmotion": rej["emotion"],
                                            "rejectedDialogueId": rej["id"], "draw": draw}})
    return len(items), len(rows)


times, cpu = [], []
for _ in range(RUNS):
    t0, c0 = time.perf_counter(), time.process_time()
    n_items, n_rows = run()
    times.append((time.perf_counter() - t0) * 1000)
    cpu.append((time.process_time() - c0) * 1000)
print(json.dumps({"items": n_items, "rows": n_rows, "best_ms": min(times), "median_ms": float(np.median(times)),
                  "median_cpu_ms": float(np.median(cpu)), "runs": RUNS}))
