"""The ways in: what a reader connects the card through.

``vpcd`` (and ``vpcd_ports``): the card as vsmartcard's virtual reader for pcscd, so every PC/SC
program sees it (``mynacard serve``); ``pyscard_reader``: an in-process pyscard reader, no daemon;
``control`` / ``control_server`` / ``served`` / ``rig``: a served card's control channel, its
session of its own, and its faults and trace; ``base``: the card surface a transport needs.
Transports import the card, never the test kit or the CLI (tests/test_packaging.py).
"""
