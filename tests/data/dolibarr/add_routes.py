"""Add answers of a real Dolibarr to routes.json: for requests the replay server answered 599.

	python3 tests/data/dolibarr/add_routes.py URL KEY_FILE PHASE 'GET /api/index.php/path?query' ...

Each request is sent to the Dolibarr at URL (API key from KEY_FILE, never written anywhere); its answer
is stored byte for byte beside routes.json and a route added for every server state (`states` null).
Only for answers that do not depend on the records relance's tests replay (dictionaries: states,
countries), which are the same on every Dolibarr 20.0.2: the others were recorded with the whole state.
"""

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).parent


def main() -> None:
	url, key_file, phase, *requests = sys.argv[1:]
	key = Path(key_file).read_text().strip()
	routes = json.loads((HERE / "routes.json").read_text(encoding="utf-8"))
	for spec in requests:
		method, _, target = spec.partition(" ")
		parts = urlsplit(target)
		query = {
			k: v[0] if len(v) == 1 else v for k, v in parse_qs(parts.query, keep_blank_values=True).items()
		}
		req = urllib.request.Request(url.rstrip("/") + target, method=method)
		req.add_header("DOLAPIKEY", key)
		req.add_header("Accept", "application/json")
		try:
			with urllib.request.urlopen(req, timeout=60) as resp:
				status, reason, ctype, body = (
					resp.status,
					resp.reason,
					resp.headers["Content-Type"],
					resp.read(),
				)
		except urllib.error.HTTPError as exc:
			status, reason, ctype, body = exc.code, exc.reason, exc.headers["Content-Type"], exc.read()
		if key.encode() in body:
			sys.exit(f"{spec}: the answer holds the API key; not stored")
		stem = "_".join(x for x in parts.path.replace("/api/index.php/", "").split("/") if x)
		extra = "_".join(f"{v}" for k, v in sorted(query.items()) if k in ("sqlfilters", "lang", "page"))
		safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in extra)[:60]
		name = f"{method.lower()}_{stem}_{safe}_{status}.json"
		(HERE / name).write_bytes(body)
		routes["routes"].append(
			{
				"method": method,
				"path": parts.path,
				"query": query,
				"states": None,
				"status": status,
				"reason": reason,
				"content_type": ctype,
				"body": name,
				"recorded_in": [phase],
			}
		)
		print(status, name)
	(HERE / "routes.json").write_text(
		json.dumps(routes, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
	)


if __name__ == "__main__":
	main()
