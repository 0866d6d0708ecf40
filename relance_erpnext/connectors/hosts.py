"""Server names, as the configuration gives them for Dolibarr and the mail server."""

from __future__ import annotations

import ipaddress
import re

# One DNS label; "_" is accepted, as container and intranet names use it ("dolibarr_web")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$", re.IGNORECASE)


def valid_host(host: str) -> bool:
	"""A host name ("smtp.example.org", "société.fr", "localhost") or an IP address ("192.0.2.1",
	"::1", "[::1]"): no scheme, port, user, path, space or control character."""
	if not isinstance(host, str) or not host or host != host.strip():
		return False
	try:
		ipaddress.ip_address(host[1:-1] if host.startswith("[") and host.endswith("]") else host)
		return True
	except ValueError:
		pass
	try:
		ascii_host = host.encode("idna").decode("ascii")
	except UnicodeError:
		return False
	labels = ascii_host[:-1].split(".") if ascii_host.endswith(".") else ascii_host.split(".")
	return len(ascii_host) <= 253 and all(_LABEL.match(label) for label in labels)
