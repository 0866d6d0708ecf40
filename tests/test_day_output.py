"""The output of a day: OUT/YYYY-MM-DD/; a later run of the same day never deletes nor rewrites what an
earlier one wrote (it adds, or says there is nothing new); a_imprimer.* whenever there are postal letters."""

import contextlib
import io
import json
from pathlib import Path

from relance_erpnext import cli

SAMPLE = Path(cli.SAMPLE_REGISTER)
AS_OF = "2026-06-15"


def run(*argv):
	out, err = io.StringIO(), io.StringIO()
	with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
		code = cli.main([str(a) for a in argv])
	return code, out.getvalue(), err.getvalue()


def snapshot(folder: Path) -> dict[str, bytes]:
	return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_day_in_its_folder_and_a_later_run_only_adds(tmp_path):
	register = tmp_path / "registre.csv"
	register.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
	out, journal = tmp_path / "lettres", tmp_path / "journal.sqlite"
	argv = ("run", "--register", register, "--as-of", AS_OF, "--journal", journal, "--out", out)
	code, stdout, err = run(*argv, "--config", cli.SAMPLE_CONFIG)
	assert code == 0, err
	day = out / AS_OF
	assert [p.name for p in out.iterdir()] == [AS_OF]
	first = snapshot(day)
	plan = json.loads(first["plan.json"])
	letters = sorted(n for n in first if n[:3].isdigit() and n.endswith(".html"))
	assert len(letters) == len(plan["actions"])
	# Letters to post exist without --send: all of them in one file to print
	postal = [a for a in plan["actions"] if a["channel"] in ("letter", "registered_letter")]
	assert postal and "a_imprimer.html" in first
	printable = first["a_imprimer.html"].decode()
	for action in postal:
		assert action["invoices"][0]["invoice"] in printable
	assert f"{day / 'a_imprimer'}" in stdout

	# The same day again, nothing new: nothing written, nothing removed, and it says so
	code, stdout, err = run(*argv, "--config", cli.SAMPLE_CONFIG)
	assert code == 0, err
	assert "Rien de nouveau pour le 2026-06-15" in stdout
	assert snapshot(day) == first

	# A new overdue invoice the same day: its letter is added, numbered on, beside the first run's
	with register.open("a", encoding="utf-8") as handle:
		handle.write(
			"FA-2026-0099;Atelier Neuf SARL;B2B;France;fr;;;5 rue Neuve / 69001 Lyon;;;01/04/2026;01/05/2026;"
			"1 000,00;EUR;;;;;;;\n"
		)
	code, stdout, err = run(*argv, "--config", cli.SAMPLE_CONFIG)
	assert code == 0, err
	now = snapshot(day)
	assert {name: now[name] for name in first} == first  # the first run's files, byte for byte
	added = sorted(set(now) - set(first))
	number = len(letters) + 1
	assert added == sorted(
		[
			f"{number:03d}_atelier-neuf-sarl_rappel_courtois.html",
			f"{number:03d}_atelier-neuf-sarl_rappel_courtois.txt",
			"a_imprimer-2.html",
			*(["a_imprimer-2.pdf"] if "a_imprimer.pdf" in first else []),
			"plan-2.json",
			"summary-2.txt",
		]
	), added
	assert [a["invoices"][0]["invoice"] for a in json.loads(now["plan-2.json"])["actions"]] == [
		"FA-2026-0099"
	]
	assert "FA-2026-0099" in now["a_imprimer-2.html"].decode()


def test_another_day_has_its_own_folder(tmp_path):
	out, journal = tmp_path / "lettres", tmp_path / "journal.sqlite"
	for day in ("2026-06-15", "2026-06-22"):
		argv = ("run", "--register", SAMPLE, "--as-of", day, "--journal", journal, "--out", out)
		code, _, err = run(*argv, "--config", cli.SAMPLE_CONFIG)
		assert code == 0, err
	assert sorted(p.name for p in out.iterdir()) == ["2026-06-15", "2026-06-22"]
	assert (out / "2026-06-15" / "plan.json").exists() and (out / "2026-06-22" / "plan.json").exists()
