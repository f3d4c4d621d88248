"""Teaching the PIN rules: explanations, the reset procedures as a model, scenarios, diagrams.

Modules (import them directly; this package imports nothing on its own):

* ``i18n`` — the user's language (``--lang``, else ``LC_ALL``/``LANG``), bilingual ``Text``.
* ``explain`` — plain explanations of every status word and of each traced exchange.
* ``reset`` — window and kiosk reset procedures, by date, applicant and channel (pin-rules.md §3–§5).
* ``scenario`` — scenario files replayed on a real card, with every counter after each event.
* ``diagram`` — the PIN lifecycle diagram and access-rule tables from ``card_emulator.rules``.
* ``render`` — tables, colour only on a terminal, JSON.
"""
