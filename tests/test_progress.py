"""The progress bar: on standard error when it is a terminal, never with --quiet nor in a pipe."""

import contextlib
import io

from relance_erpnext import cli


class Terminal(io.StringIO):
	def isatty(self):
		return True


def run(stderr, *argv):
	out = io.StringIO()
	with contextlib.redirect_stdout(out), contextlib.redirect_stderr(stderr):
		code = cli.main([str(a) for a in argv])
	return code, out.getvalue(), stderr.getvalue()


PLAN = ("--lang", "fr", "plan", "--register", cli.SAMPLE_REGISTER, "--as-of", "2026-06-15")


def test_a_bar_on_a_terminal():
	code, out, err = run(Terminal(), *PLAN)
	assert code == 0
	assert "Lecture du registre" in err
	assert "Lecture" not in out  # standard output stays the plan alone


def test_none_with_quiet_or_in_a_pipe():
	code, _, err = run(Terminal(), *PLAN, "--quiet")
	assert code == 0 and "Lecture du registre" not in err
	code, _, err = run(io.StringIO(), *PLAN)
	assert code == 0 and "Lecture du registre" not in err


def test_writing_the_letters_shows_its_bar(tmp_path):
	argv = ("--lang", "en", "demo", "--out", tmp_path / "demo")
	code, _, err = run(Terminal(), *argv)
	assert code == 0, err
	assert "Writing the letters" in err and "Reading the register" in err
