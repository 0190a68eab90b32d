"""Runs one DPO training in-process (no bridge) and prints the step-time window the bridge run also measures."""

import json
import sys
import threading
import time

from empo_worker import train

model, pairs, out, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
log_times: list[float] = []


def emit(event: dict) -> None:
    if event["_tag"] == "log":
        log_times.append(time.perf_counter())


train.run(
    {"stage": "dpo", "model": model, "trainData": pairs, "outputDir": out,
     "hyper": {"learningRate": 5e-4, "batchSize": 8, "maxSteps": steps, "maxLength": 128, "beta": 0.1}},
    emit,
    threading.Event(),
)
# Time per step between the first and last logged step (excludes imports, model load and saving).
print(json.dumps({"secondsPerStep": (log_times[-1] - log_times[0]) / (len(log_times) - 1)}))
