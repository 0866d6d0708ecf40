"""The letters' Jinja filters, registered in Frappe (hooks.py `jinja["filters"]`) so that Frappe
accepts an Email Template holding an edited letter: it compiles every template it saves. The
letters themselves are always rendered in the core's own sandbox, with these same functions."""

from relance_erpnext.dunning.letters import TEMPLATE_FILTERS as _FILTERS

# Frappe names each filter after the attribute that holds it
money = _FILTERS["money"]
date = _FILTERS["date"]
rate = _FILTERS["rate"]
note = _FILTERS["note"]
blocks = _FILTERS["blocks"]
oneline = _FILTERS["oneline"]
wrap = _FILTERS["wrap"]
columns = _FILTERS["columns"]
