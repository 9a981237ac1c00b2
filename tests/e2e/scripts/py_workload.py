# A stdlib workload for the real-program tests: json, re and a dict of 100k entries. Its output is
# deterministic so the traced run must print exactly what the untraced run prints.
import hashlib
import json
import re

table = {f"key{i}": [i, {"sq": i * i}] for i in range(100_000)}
blob = json.dumps(table, sort_keys=True)
back = json.loads(blob)
assert back == table

words = re.findall(r"key(\d+7)\"", blob)
total = sum(int(w) for w in words)
pattern = re.compile(r"(\d)\1\1")
repeats = sum(1 for k in table if pattern.search(k))

print(len(table), len(blob), len(words), total, repeats)
print(hashlib.sha256(blob.encode()).hexdigest())
