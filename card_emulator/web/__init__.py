"""``mynacard learn``: a self-contained learning page on 127.0.0.1 (its own package, beside the CLI).

``server`` serves the page and a small JSON API over the standard library's ``http.server``; the
page (``static/``: plain HTML, CSS and JavaScript, shipped as package data) draws what the API
returns. All logic is the library's: ``card_emulator.teaching.lesson`` drives a real in-memory
card, and every rule and text comes from the teaching tables (``strings`` holds only the page's
own labels). No file is fetched from anywhere else: it works offline.
"""
