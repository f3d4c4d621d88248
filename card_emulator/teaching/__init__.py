"""Teaching the PIN rules: explanations, the reset procedures as a model, scenarios, diagrams,
and the lesson behind the learning page.

Modules (import them directly; this package imports nothing on its own):

* ``i18n`` — the user's language (``--lang``, else ``LC_ALL``/``LANG``), bilingual ``Text``, counts.
* ``sources`` — the seed pages, and ``Source``/``Fact``: every fact shown names its seed page or
  says it is an assumption.
* ``pin_ops`` — what a terminal sends for a PIN (SELECT, VERIFY, CHANGE) and near-miss hints.
* ``explain`` / ``commands`` — plain explanations of status words, commands and the card's reasons.
* ``reset_data`` / ``reset`` — window and kiosk reset procedures, by date, applicant and channel
  (pin-rules.md §3–§5): the tables, then the refusals and the issuer reset.
* ``changes`` — where each PIN can be changed (seed 004).
* ``scenario`` / ``timeline`` — the classic scenarios (package data ``scenarios/``), replayed on a
  real card with every counter after each event.
* ``lesson`` — a practice card, a day and a timeline: the library behind ``mynacard learn``.
* ``diagram`` — the learner's and the developer's diagrams and the access tables, from the rules.
* ``render`` — tables with ``rich`` that fit the terminal (Japanese line breaking), JSON.
"""
