"""Registers as accountants keep them: seed 000's layout, a title above the header and a total row, the
customers' contacts in a sheet "Clients" or a --customers file, an ambiguous amount refused, and what
each plans (a person's expectations, not the reader's internals)."""

from datetime import date
from decimal import Decimal

import openpyxl

from relance_erpnext.connectors.register import read_register
from relance_erpnext.dunning import BUILTIN_SCENARIOS, PlanSettings, load_reference_rates, plan
from relance_erpnext.dunning.models import REGIME_QC
from relance_erpnext.i18n import say
from tests.test_register import TempDir

AS_OF = date(2026, 6, 15)
SEED_000 = ["Numéro de facture", "Client", "Montant", "Date d'émission", "Échéance", "Statut du paiement"]


def make_plan(register):
	return plan(
		AS_OF,
		register.customers,
		register.invoices,
		[],
		BUILTIN_SCENARIOS,
		load_reference_rates(),
		PlanSettings(),
		outcomes=register.outcomes,
		credits=register.credits,
	)


def acted(result) -> dict[str, str]:
	"""invoice -> the step planned for it."""
	return {line.invoice: action.step for action in result.actions for line in action.lines}


class Seed000Layout(TempDir):
	def test_every_column_is_read_and_paid_words_are_understood(self):
		reg = self.read(
			[
				SEED_000,
				["FA-001", "Boulangerie Martin", "1 440,00", "02/04/2026", "02/05/2026", "payée"],
				["FA-002", "Boulangerie Martin", "480,00", "05/04/2026", "05/05/2026", "réglée"],
				["FA-003", "Boulangerie Martin", "300,00", "05/04/2026", "05/05/2026", "Soldée"],
				["FA-004", "Garage Dubois", "2 400,00", "01/04/2026", "01/05/2026", "oui"],
				["FA-005", "Garage Dubois", "960,00", "01/04/2026", "01/05/2026", "impayée"],
				["FA-006", "Atelier Rivière", "120,00", "01/05/2026", "10/06/2026", "en attente"],
				["FA-007", "Atelier Rivière", "130,00", "01/06/2026", "30/06/2026", "non"],
			]
		)
		self.assertEqual(reg.errors, [], self.messages(reg))
		self.assertFalse(any("not used" in w for w in reg.warnings), reg.warnings)
		result = make_plan(reg)
		steps = acted(result)
		# Paid invoices ("payée", "réglée", "soldée", "oui") are never chased, nor charged 40 €
		for paid in ("FA-001", "FA-002", "FA-003", "FA-004"):
			self.assertNotIn(paid, steps)
		# "impayée" and "en attente" (of payment) past due are reminded; not yet due is not
		self.assertIn("FA-005", steps)
		self.assertIn("FA-006", steps)
		self.assertNotIn("FA-007", steps)
		# Without any contact column a letter is still planned, with the address to fill in
		[garage] = [a for a in result.actions if a.customer == "Garage Dubois"]
		self.assertEqual(garage.channel, "letter")
		self.assertEqual([line.invoice for line in garage.lines], ["FA-005"])
		self.assertEqual(garage.total, Decimal("960.00"))

	def test_unused_column_named_in_the_users_language(self):
		reg = self.read(
			[[*SEED_000, "Commercial"], ["FA-1", "X", "10", "01/05/2026", "01/06/2026", "", "Paul"]]
		)
		[warning] = [w for w in reg.warnings if "Commercial" in w]
		self.assertEqual(warning, "ventes.csv: column(s) not used: 'Commercial'")
		self.assertEqual(say(warning, "fr"), "ventes.csv : colonne(s) non utilisée(s) : 'Commercial'")

	def test_usual_headers(self):
		for header in (
			["N° de facture", "Raison sociale", "Montant TTC", "Date de facture", "Date d'échéance", "État"],
			[
				"Réf. facture",
				"Nom du client",
				"Total TTC",
				"Date de facturation",
				"Échéance de paiement",
				"Payée",
			],
			[
				"Invoice number",
				"Customer name",
				"Invoice amount",
				"Invoice date",
				"Due date",
				"Payment status",
			],
		):
			reg = self.read([header, ["F1", "X", "100,00", "01/05/2026", "01/06/2026", "payée"]])
			self.assertEqual(reg.errors, [], (header, self.messages(reg)))
			self.assertFalse(any("not used" in w for w in reg.warnings), (header, reg.warnings))
			self.assertEqual(len(reg.invoices), 1, header)
			self.assertEqual(reg.invoices[0].payments[0].amount, Decimal("100.00"), header)


class TitleAndTotalRows(TempDir):
	ROWS = [
		["Registre des factures émises — 2026", "", "", "", "", ""],
		["Société Atelier Lumière", "", "", "", "", ""],
		["", "", "", "", "", ""],
		SEED_000,
		["FA-010", "Garage Dubois", "1 200,00", "01/04/2026", "01/05/2026", "impayée"],
		["FA-011", "Garage Dubois", "800,00", "01/04/2026", "01/05/2026", "payée"],
		["", "", "", "", "", ""],
		["FA-012", "Atelier Rivière", "450,00", "01/05/2026", "03/06/2026", ""],
		["TOTAL", "", "2 450,00", "", "", ""],
	]

	def check(self, reg, total_row):
		self.assertEqual(reg.errors, [], self.messages(reg))
		self.assertEqual(sorted(i.id for i in reg.invoices), ["FA-010", "FA-011", "FA-012"])
		self.assertEqual(reg.invoice_rows["FA-010"], 5)  # the row as the spreadsheet shows it
		self.assertEqual(reg.total_rows, [total_row])
		self.assertIn(
			f"ventes.{reg.path.suffix[1:]}: row(s) {total_row} are totals, not invoices: ignored",
			reg.warnings,
		)
		self.assertTrue(any("the header is row 4" in w for w in reg.warnings), reg.warnings)
		steps = acted(make_plan(reg))
		self.assertEqual(set(steps), {"FA-010", "FA-012"})

	def test_csv(self):
		reg = self.read(self.ROWS)
		self.check(reg, 9)
		self.assertEqual(reg.empty_rows, [7])

	def test_xlsx(self):
		reg = read_register(self.xlsx([[c or None for c in row] for row in self.ROWS]))
		self.check(reg, 9)

	def test_a_total_row_in_the_customer_column(self):
		reg = self.read(
			[SEED_000, ["F1", "X", "10,00", "", "01/06/2026", ""], ["", "Total général", "10,00", "", "", ""]]
		)
		self.assertEqual(reg.errors, [], self.messages(reg))
		self.assertEqual(reg.total_rows, [3])

	def test_a_customer_named_total_is_a_customer(self):
		reg = self.read(
			[SEED_000, ["F1", "Total Rénovation et Bâtiment SARL", "10,00", "", "01/06/2026", ""]]
		)
		self.assertEqual(reg.errors, [], self.messages(reg))
		self.assertEqual(reg.total_rows, [])
		self.assertEqual(len(reg.invoices), 1)

	def test_a_row_saying_total_with_an_invoice_number_is_an_invoice(self):
		reg = self.read(
			[["Client", "Facture", "Montant", "Échéance"], ["Total", "F1", "10,00", "01/06/2026"]]
		)
		self.assertEqual(reg.errors, [], self.messages(reg))
		self.assertEqual([i.id for i in reg.invoices], ["F1"])


class AmbiguousAmounts(TempDir):
	def test_thousands_or_decimals_refused_naming_row_and_column(self):
		reg = self.read(
			[
				SEED_000,
				["F1", "X", "1,440", "", "01/06/2026", ""],
				["F2", "X", "2.250", "", "01/06/2026", ""],
				["F3", "X", "1 440,00", "", "01/06/2026", ""],
				["F4", "X", "1,44", "", "01/06/2026", ""],
				["F5", "X", "1.440,50", "", "01/06/2026", ""],
			]
		)
		self.assertOneError(reg, 2, "Montant", '"1,440" is ambiguous: 1440 or 1.44?')
		self.assertOneError(reg, 3, "Montant", '"2.250" is ambiguous: 2250 or 2.25?')
		self.assertEqual(len(reg.errors), 2, self.messages(reg))
		[error] = [e for e in reg.errors if e.row == 2]
		self.assertEqual(
			error.text("fr"),
			'ventes.csv, ligne 2, colonne « Montant » : "1,440" est ambigu : 1440 ou 1.44 ?'
			' Écrivez "1 440,00" ou "1,44"',
		)
		self.assertFalse(reg.plannable)

	def test_an_amount_from_a_number_cell_is_not_ambiguous(self):
		reg = read_register(self.xlsx([SEED_000, ["F1", "X", 1.44, None, date(2026, 6, 1), None]]))
		self.assertEqual(reg.errors, [], self.messages(reg))
		self.assertEqual(reg.invoices[0].instalments[0].amount, Decimal("1.44"))


class CustomersSheet(TempDir):
	INVOICES = [
		SEED_000,
		["FA-020", "Garage Dubois", 1200, date(2026, 4, 1), date(2026, 5, 1), "impayée"],
		["FA-021", "Boulangerie Martin", 480, date(2026, 4, 1), date(2026, 6, 10), "impayée"],
		["FA-022", "Ébénisterie Tremblay inc.", 900, date(2026, 4, 1), date(2026, 6, 10), "impayée"],
	]
	CLIENTS = [
		["Client", "Courriel", "Téléphone", "Adresse", "Pays", "Type"],
		[
			"Garage Dubois",
			"compta@garage-dubois.example",
			"04 78 00 00 01",
			"3 rue Neuve / 69001 Lyon",
			"France",
			"B2B",
		],
		["Boulangerie Martin", "", "", "14 rue Mercière / 69002 Lyon", "", ""],
		["Ébénisterie Tremblay inc.", "comptes@tremblay.example", "", "", "Québec", ""],
	]

	def workbook(self):
		def setup(book, sheet):
			clients = book.create_sheet("Clients")
			for row in self.CLIENTS:
				clients.append(row)

		return self.xlsx(self.INVOICES, setup=setup)

	def check(self, reg):
		self.assertEqual(reg.errors, [], self.messages(reg))
		garage = reg.customers["Garage Dubois"]
		self.assertEqual(garage.email, "compta@garage-dubois.example")
		self.assertEqual(garage.address, ("3 rue Neuve", "69001 Lyon"))
		self.assertEqual(reg.customers["Boulangerie Martin"].email, "")
		self.assertEqual(reg.customers["Boulangerie Martin"].address, ("14 rue Mercière", "69002 Lyon"))
		self.assertEqual(reg.customers["Ébénisterie Tremblay inc."].regime, REGIME_QC)
		result = make_plan(reg)
		by_customer = {a.customer: a for a in result.actions}
		# The customer with an e-mail in the sheet gets an e-mail; the other a letter with its address
		self.assertEqual(by_customer["Garage Dubois"].channel, "email")
		self.assertEqual(by_customer["Boulangerie Martin"].channel, "letter")
		self.assertFalse(
			any(
				"pas d'adresse postale" in str(n) or "no_address" in str(n)
				for n in by_customer["Boulangerie Martin"].notes
			)
		)

	def test_a_clients_sheet_of_the_workbook(self):
		reg = read_register(self.workbook())
		self.assertEqual(reg.sheet, "Factures")
		self.assertEqual(reg.customer_sheet, "Clients")
		self.assertFalse(any("sheets" in w for w in reg.warnings), reg.warnings)
		self.check(reg)

	def test_a_customers_file(self):
		invoices = self.xlsx(self.INVOICES)
		customers = self.csv(self.CLIENTS, name="clients.csv")
		self.check(read_register(invoices, customers=customers))

	def test_a_row_value_wins_and_the_difference_is_said(self):
		rows = [[*self.INVOICES[0], "Courriel"], [*self.INVOICES[1], "autre@garage.example"]]
		reg = read_register(self.csv(rows), customers=self.csv(self.CLIENTS, name="clients.csv"))
		self.assertEqual(reg.errors, [], self.messages(reg))
		self.assertEqual(reg.customers["Garage Dubois"].email, "autre@garage.example")
		[warning] = [w for w in reg.warnings if "Garage Dubois" in w]
		self.assertIn("clients.csv (row 2): the register's is used", warning)

	def test_errors_in_the_customers_sheet_name_its_row_and_column(self):
		self.CLIENTS = [*self.CLIENTS, ["Atelier", "pas-un-courriel", "", "", "", ""]]
		reg = read_register(self.workbook())
		[error] = reg.errors
		self.assertEqual(error.file, "ventes.xlsx (Clients)")
		self.assertEqual((error.row, error.column), (5, "Courriel"))
		self.assertIn('"pas-un-courriel" is not an e-mail address', error.message)
