"""`relance run` writes its letters as they come (never all held in memory), in one process or several,
into a folder of its own first: a letter that fails leaves nothing in the day folder, a_imprimer.html
lists every postal letter in the plan's order, a_imprimer.pdf is made up to a number of letters (beyond,
on demand), and nothing already there is ever overwritten."""

import contextlib
import fcntl
import io
import json
from pathlib import Path

import pytest

from relance_erpnext import cli
from relance_erpnext.cli import workflow
from relance_erpnext.connectors import pdf
from relance_erpnext.connectors.journal import Journal
from relance_erpnext.connectors.mailer import pdf_renderer
from relance_erpnext.dunning import letters
from relance_erpnext.dunning.letters import LetterError

SAMPLE = Path(cli.SAMPLE_REGISTER)
AS_OF = "2026-06-15"
COMPANY = Path(cli.SAMPLE_CONFIG).read_text(encoding="utf-8").split("[settings]")[0]
# A first run that catches up by the due dates: formal notices and registered letters to post
BY_DUE_DATE = '[settings]\ncatch_up = "by_due_date"\n'
POSTAL = ("letter", "registered_letter")


def run(*argv):
	out, err = io.StringIO(), io.StringIO()
	with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
		code = cli.main([str(a) for a in argv])
	return code, out.getvalue(), err.getvalue()


def snapshot(folder: Path) -> dict[str, bytes]:
	return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def postal_config(tmp_path):
	config = tmp_path / "entreprise.toml"
	config.write_text(COMPANY + BY_DUE_DATE, encoding="utf-8")
	return config


@pytest.fixture(params=["one process", "processes"])
def processes(request, monkeypatch):
	"""The letters rendered in this process, or by worker processes a few letters at a time."""
	if request.param == "processes":
		monkeypatch.setattr(workflow, "PARALLEL_MIN_LETTERS", 1)
		monkeypatch.setattr(workflow, "SPAN", 2)
		monkeypatch.delenv("RELANCE_PROCESSES", raising=False)
		monkeypatch.setattr(workflow, "letter_processes", lambda count: 2)
	else:
		monkeypatch.setenv("RELANCE_PROCESSES", "1")
	return request.param


def run_day(tmp_path, config, name="lettres"):
	out, journal = tmp_path / name, tmp_path / f"{name}.sqlite"
	code, stdout, err = run(
		"run", "--register", SAMPLE, "--as-of", AS_OF, "--journal", journal, "--out", out, "--config", config
	)
	return code, stdout, err, out / AS_OF, journal


def test_the_same_day_folder_from_one_process_or_several(tmp_path, postal_config, monkeypatch):
	"""Byte for byte: the letters, their numbers, a_imprimer.html (every postal letter, in the plan's
	order: the same bytes as the letters' pages joined), plan.json, summary.txt."""
	monkeypatch.setenv("RELANCE_PROCESSES", "1")
	code, _, err, one, _ = run_day(tmp_path, postal_config, "one")
	assert code == 0, err
	monkeypatch.delenv("RELANCE_PROCESSES")
	monkeypatch.setattr(workflow, "PARALLEL_MIN_LETTERS", 1)
	monkeypatch.setattr(workflow, "SPAN", 2)
	monkeypatch.setattr(workflow, "letter_processes", lambda count: 3)
	code, _, err, several, _ = run_day(tmp_path, postal_config, "several")
	assert code == 0, err

	files = snapshot(one)
	assert snapshot(several) == files
	plan = json.loads(files["plan.json"])
	stems = sorted(name[:-5] for name in files if name[:3].isdigit() and name.endswith(".html"))
	assert len(stems) == len(plan["actions"])
	# A letter's text in its .txt, an email's in emails.txt (the same text), in the plan's order
	emails = workflow.email_texts(files["emails.txt"].decode())
	assert list(emails) == [
		stem for stem, action in zip(stems, plan["actions"], strict=True) if action["channel"] == "email"
	]
	assert emails and all((f"{stem}.txt" in files) != (stem in emails) for stem in stems)
	postal = [
		stem for stem, action in zip(stems, plan["actions"], strict=True) if action["channel"] in POSTAL
	]
	assert len(postal) >= 3
	pages = [files[f"{stem}.html"].decode() for stem in postal]
	assert files["a_imprimer.html"].decode() == pdf.merge_pages(pages)
	assert not [p for p in one.parent.iterdir() if p.name != AS_OF]
	assert not [p for p in one.iterdir() if p.name.startswith(".")]  # no folder of the run left


def test_a_letter_that_fails_leaves_nothing(tmp_path, postal_config, processes, monkeypatch):
	plan_code, plan_out, _ = run(
		"plan", "--register", SAMPLE, "--as-of", AS_OF, "--config", postal_config, "--format", "json"
	)
	actions = json.loads(plan_out)["actions"]
	victim = actions[len(actions) // 2]["customer"]  # a letter in the middle
	real = letters.render_action

	def fails_for_one(action, *args, **kwargs):
		if action.customer == victim:
			raise LetterError(f"the letter of {victim} cannot be rendered")
		return real(action, *args, **kwargs)

	monkeypatch.setattr(letters, "render_action", fails_for_one)
	code, _, err, day, journal = run_day(tmp_path, postal_config)
	assert code == cli.EXIT_INPUT, err
	assert f"the letter of {victim} cannot be rendered" in err
	assert not day.exists(), sorted(p.name for p in day.iterdir())  # no letter, no print file, no plan
	with Journal(journal) as opened:
		assert opened.history() == []  # nothing recorded either

	# Once the letter renders again, the day is written whole, numbered from 001
	monkeypatch.setattr(letters, "render_action", real)
	code, _, err, day, _ = run_day(tmp_path, postal_config)
	assert code == 0, err
	names = sorted(p.name for p in day.iterdir())
	assert names[0].startswith("001_") and "plan.json" in names and "a_imprimer.html" in names
	assert len([n for n in names if n[:3].isdigit() and n.endswith(".html")]) == len(actions)


def test_nothing_already_there_is_overwritten(tmp_path):
	"""The letters are moved into the day folder only where no file has the name: otherwise none
	stays (those moved are taken back) and the file there is left as it was."""
	day = workflow.DayFolder(tmp_path, workflow.date(2026, 6, 15))
	day.claim()
	work = day.work_folder()
	for stem in ("001_a_step", "002_b_step"):
		(work / f"{stem}.html").write_text(f"<p>{stem}</p>", encoding="utf-8")
		(work / f"{stem}.txt").write_text(stem, encoding="utf-8")
	(day.path / "002_b_step.txt").write_text("an earlier letter", encoding="utf-8")
	with pytest.raises(FileExistsError):
		day.publish(work, ["001_a_step", "002_b_step"], None)
	day.drop(work)
	assert sorted(p.name for p in day.path.iterdir()) == ["002_b_step.txt", "plan.json"]
	assert (day.path / "002_b_step.txt").read_text(encoding="utf-8") == "an earlier letter"


def test_the_folder_of_a_dead_run_is_removed_not_that_of_a_live_one(tmp_path, postal_config):
	day = tmp_path / "lettres" / AS_OF
	day.mkdir(parents=True)
	for number in (7, 8):
		(day / f".relance-run-{number}").mkdir()
		(day / f".relance-run-{number}" / "001_x_step.html").write_text("half-written", encoding="utf-8")
		(day / f".relance-run-{number}.lock").touch()
	with (day / ".relance-run-8.lock").open("a") as live:
		fcntl.flock(live, fcntl.LOCK_EX)  # run 8 is still at work
		code, _, err, day, _ = run_day(tmp_path, postal_config)
		assert code == 0, err
		hidden = sorted(p.name for p in day.iterdir() if p.name.startswith("."))
		assert hidden == [".relance-run-8", ".relance-run-8.lock"]


def test_a_second_run_the_same_day_rewrites_nothing(tmp_path, postal_config, processes):
	code, _, err, day, journal = run_day(tmp_path, postal_config)
	assert code == 0, err
	first = snapshot(day)
	# A new overdue invoice: the second run adds its letter, numbered on, and its own files
	register = tmp_path / "registre.csv"
	register.write_text(
		SAMPLE.read_text(encoding="utf-8")
		+ "FA-2026-0099;Atelier Neuf SARL;B2B;France;fr;;;5 rue Neuve / 69001 Lyon;;;01/01/2026;01/02/2026;"
		"1 000,00;EUR;;;;;;;\n",
		encoding="utf-8",
	)
	code, _, err = run(
		"run", "--register", register, "--as-of", AS_OF, "--journal", journal, "--out", day.parent,
		"--config", postal_config,
	)  # fmt: skip
	assert code == 0, err
	now = snapshot(day)
	assert {name: now[name] for name in first} == first
	added = sorted(set(now) - set(first))
	assert "plan-2.json" in added and "a_imprimer-2.html" in added
	number = max(int(name[:3]) for name in first if name[:3].isdigit()) + 1
	assert [n for n in added if n[:3].isdigit()] == [
		f"{number:03d}_atelier-neuf-sarl_mise_en_demeure.html",
		f"{number:03d}_atelier-neuf-sarl_mise_en_demeure.txt",
	]
	assert "FA-2026-0099" in now["a_imprimer-2.html"].decode()


def needs_pdf():
	if pdf_renderer() is None:
		pytest.skip("WeasyPrint cannot render here (not installed, or no Pango): pip install -e '.[test]'")
	return pytest.importorskip("pypdf")


def test_beyond_the_limit_no_pdf_but_the_command_to_make_it(tmp_path, postal_config, monkeypatch):
	pypdf = needs_pdf()
	monkeypatch.setattr(workflow, "PDF_MAX_LETTERS", 2)
	code, stdout, err, day, _ = run_day(tmp_path, postal_config)
	assert code == 0, err
	assert not (day / "a_imprimer.pdf").exists()
	print_file = day / "a_imprimer.html"
	assert f"python -m relance_erpnext.connectors.pdf {print_file}" in err
	assert f"Courriers à imprimer : {print_file}" in stdout
	plan = json.loads((day / "plan.json").read_text(encoding="utf-8"))
	postal = [action for action in plan["actions"] if action["channel"] in POSTAL]
	assert len(postal) > 2

	# On demand: the PDF of the print file, laid out two letters at a time and joined, in order
	monkeypatch.setattr(pdf, "PDF_CHUNK", 2)
	with contextlib.redirect_stdout(io.StringIO()):
		assert pdf.main([str(print_file)]) == 0
	pages = [page.extract_text() for page in pypdf.PdfReader(day / "a_imprimer.pdf").pages]
	firsts = [next(n for n, text in enumerate(pages) if a["invoices"][0]["invoice"] in text) for a in postal]
	assert firsts == sorted(set(firsts)) and firsts[0] == 0
	# Never over an existing file
	with contextlib.redirect_stderr(io.StringIO()):
		assert pdf.main([str(print_file)]) == 1


def test_within_the_limit_the_pdf_is_made_in_parts_and_joined(tmp_path, postal_config, monkeypatch):
	pypdf = needs_pdf()
	monkeypatch.setattr(pdf, "PDF_CHUNK", 2)
	code, stdout, err, day, _ = run_day(tmp_path, postal_config)
	assert code == 0, err
	plan = json.loads((day / "plan.json").read_text(encoding="utf-8"))
	postal = [action for action in plan["actions"] if action["channel"] in POSTAL]
	pages = [page.extract_text() for page in pypdf.PdfReader(day / "a_imprimer.pdf").pages]
	assert len(pages) >= len(postal) > 2
	firsts = [next(n for n, text in enumerate(pages) if a["invoices"][0]["invoice"] in text) for a in postal]
	assert firsts == sorted(set(firsts)) and firsts[0] == 0
	assert f"Courriers à imprimer : {day / 'a_imprimer.pdf'}" in stdout


def test_the_print_file_is_split_back_into_its_letters():
	pages = [
		"<!DOCTYPE html>\n<html><head><title>1</title></head>\n<body>\n<p>un</p>\n</body>\n</html>\n",
		"<!DOCTYPE html>\n<html><head><title>2</title></head>\n<body>\n<p>deux</p>\n</body>\n</html>\n",
		"<p>trois, sans page</p>",
	]
	merged = pdf.merge_pages(pages)
	assert merged.count(pdf.PAGE_BREAK) == 2 and "<title>2</title>" not in merged
	assert pdf.merge_pages(pdf.split_print_file(merged)) == merged
	assert len(pdf.split_print_file(merged)) == 3


def test_where_processes_cannot_start_one_does_it_all(tmp_path, postal_config, monkeypatch):
	"""Some containers have no /dev/shm for the processes' locks: the letters are then made here."""
	import multiprocessing.context

	def no_pool(*args, **kwargs):
		raise OSError(38, "Function not implemented")

	monkeypatch.setattr(multiprocessing.context.ForkContext, "Pool", no_pool)
	monkeypatch.setattr(workflow, "letter_processes", lambda count: 2)
	monkeypatch.setattr(workflow, "SPAN", 2)
	code, _, err, day, _ = run_day(tmp_path, postal_config)
	assert code == 0, err
	plan = json.loads((day / "plan.json").read_text(encoding="utf-8"))
	assert len(list(day.glob("[0-9][0-9][0-9]_*.html"))) == len(plan["actions"])


def test_plan_json_is_the_plan_one_action_or_skipped_invoice_a_line(tmp_path, postal_config, monkeypatch):
	"""plan.json is written in pieces as it is encoded (never the whole text held): the same JSON
	value as `relance plan --format json` (plan_dict), one action and one skipped invoice a line."""
	monkeypatch.setenv("RELANCE_PROCESSES", "1")
	code, _, err, day, _ = run_day(tmp_path, postal_config)
	assert code == 0, err
	_, plan_out, _ = run(
		"plan", "--register", SAMPLE, "--as-of", AS_OF, "--config", postal_config, "--format", "json"
	)
	text = (day / "plan.json").read_text(encoding="utf-8")
	written, printed = json.loads(text), json.loads(plan_out)
	assert written == printed and list(written) == list(printed)
	assert written["actions"] and written["skipped"]
	lines = text.splitlines()
	for key in ("actions", "skipped"):
		start = lines.index(f'"{key}": [')
		items = lines[start + 1 : start + 1 + len(written[key])]
		assert [json.loads(line.removesuffix(",")) for line in items] == written[key]
		assert lines[start + 1 + len(written[key])] in ("]", "],")


def test_plan_json_chunks_of_an_empty_plan_is_valid_json():
	from relance_erpnext.dunning.models import Plan
	from relance_erpnext.dunning.serialize import plan_json_chunks, plan_to_dict

	empty = Plan(as_of=workflow.date(2026, 6, 15), actions=(), skipped=())
	assert json.loads("".join(plan_json_chunks(empty))) == plan_to_dict(empty)
	assert json.loads("".join(plan_json_chunks(empty, {}))) == plan_to_dict(empty)


def test_an_emails_file_already_there_is_not_overwritten(tmp_path):
	"""emails.txt is moved in last, never over a file of its name: the letters moved are taken back."""
	day = workflow.DayFolder(tmp_path, workflow.date(2026, 6, 15))
	day.claim()
	work = day.work_folder()
	for stem in ("001_a_step", "002_b_step"):
		(work / f"{stem}.html").write_text(f"<p>{stem}</p>", encoding="utf-8")
	(work / "emails.txt").write_text("=== 001_a_step ===\nS\n\nT\n\n", encoding="utf-8")
	(day.path / "emails.txt").write_text("an earlier run's", encoding="utf-8")
	with pytest.raises(FileExistsError):
		day.publish(
			work, ["001_a_step", "002_b_step"], None, texts=[False, False], emails_file=work / "emails.txt"
		)
	day.drop(work)
	assert sorted(p.name for p in day.path.iterdir()) == ["emails.txt", "plan.json"]
	assert (day.path / "emails.txt").read_text(encoding="utf-8") == "an earlier run's"


def test_emails_txt_holds_each_email_as_its_txt_would(tmp_path, processes):
	"""An email has its .html and no .txt of its own: its subject and text, as the .txt held them, are
	in the run's emails.txt under a line naming its letter, in the plan's order, a blank line after
	each; a later run of the day writes emails-2.txt."""
	from markupsafe import escape

	code, _, err, day, _ = run_day(tmp_path, cli.SAMPLE_CONFIG)
	assert code == 0, err
	plan = json.loads((day / "plan.json").read_text(encoding="utf-8"))
	stems = [p.stem for p in sorted(day.glob("[0-9][0-9][0-9]_*.html"))]
	email_stems = [s for s, a in zip(stems, plan["actions"], strict=True) if a["channel"] == "email"]
	assert email_stems and len(email_stems) < len(stems)
	text = (day / "emails.txt").read_text(encoding="utf-8")
	texts = workflow.email_texts(text)
	assert list(texts) == email_stems
	assert "".join(f"=== {stem} ===\n{body}\n" for stem, body in texts.items()) == text
	for stem in stems:
		assert (day / f"{stem}.txt").exists() == (stem not in texts)
	for stem, body in texts.items():
		subject, blank, letter_text = body.partition("\n\n")
		assert blank and letter_text.endswith("\n") and not letter_text.endswith("\n\n")
		html = (day / f"{stem}.html").read_text(encoding="utf-8")
		assert f"<title>{escape(subject)}</title>" in html
	later = workflow.DayFolder(tmp_path / "lettres", workflow.date(2026, 6, 15))
	later.run = 2
	assert later.file("emails", ".txt").name == "emails-2.txt"


def test_a_letter_file_is_written_as_a_text_file_and_never_over_another(tmp_path):
	text = "Objet : relance — 1 440,00 €\n\nBonjour,\n" * 500
	(tmp_path / "a.txt").write_text(text, encoding="utf-8")  # what open(path, "x") would write
	workflow._new_file(tmp_path / "b.txt", text)
	assert (tmp_path / "b.txt").read_bytes() == (tmp_path / "a.txt").read_bytes()
	assert (tmp_path / "b.txt").stat().st_mode == (tmp_path / "a.txt").stat().st_mode
	with pytest.raises(FileExistsError):
		workflow._new_file(tmp_path / "a.txt", "other")
	assert (tmp_path / "a.txt").read_text(encoding="utf-8") == text
