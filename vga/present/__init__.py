"""Presenting each step's results: one module per notebook of the series.

A presenter takes a :class:`vga.notebook.View` and returns an
:class:`~vga.present.blocks.Html` block (tables, figures, notes and findings
written as sentences from the data). It computes nothing the step did not.
"""
