"""MkDocs hooks: the parts of the site the code declares, generated at build
time so that nothing is written twice.

A page holds a marker; the build replaces it:

- ``<!-- data-dictionary -->``: every table and column of the data contract
  (:func:`vga.contract.dictionary_markdown`);
- ``<!-- exit-codes -->``: the exit status table (:data:`vga.errors.EXIT_CODES`);
- ``<!-- commands -->``: every command and option, from the command line's own parser;
- ``<!-- glossary -->``: the report's glossary (:data:`vga.run.report.GLOSSARY`);
- ``<!-- chapters -->``: the series' chapters (:func:`vga.present.chapters`);
- ``<!-- chapter-blocks -->``: each chapter's results and the blocks its notebook may show.
"""

from __future__ import annotations


def _commands() -> str:
    import argparse

    from vga.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    parts = []
    for name, command in sub.choices.items():
        parts += [f"### vga {name}", "", helps.get(name, "").capitalize() + ".", "", "```", command.format_usage().strip(),
                  "```", "", "| option | meaning |", "|---|---|"]
        for action in command._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue
            flags = ", ".join(action.option_strings) or action.dest.upper()
            meta = "" if action.nargs == 0 or not action.option_strings else f" {action.metavar or action.dest.upper()}"
            text = (action.help or "").replace("|", "\\|")
            parts.append(f"| `{flags}{meta}` | {text} |")
        parts.append("")
    return "\n".join(parts)


def _glossary() -> str:
    from html import escape

    from vga.run.report import GLOSSARY

    rows = "".join(f'<dt id="{anchor}">{escape(term)}</dt><dd>{escape(sentence)}</dd>\n'
                   for anchor, term, sentence, _ in GLOSSARY)
    return f'<dl class="vga-glossary">\n{rows}</dl>'


def _chapters() -> str:
    from vga.present import chapters

    rows = "".join(f"| {c.number} | {c.title} | `notebooks/{c.notebook}.ipynb` |\n" for c in chapters().values())
    return "| step | chapter | notebook |\n|---|---|---|\n" + rows


def _chapter_blocks() -> str:
    from vga.present import blocks_of, chapters
    from vga.run.opened import shown_outputs

    rows = "".join(
        f"| `{c.key}` | `{c.notebook}.ipynb` | {', '.join(f'`{o}`' for o in shown_outputs(c))} | "
        f"{', '.join(f'`{b}`' for b in blocks_of(c))} |\n" for c in chapters().values())
    return "| chapter | notebook | `view[...]`: the results it reads | `show.<block>(view)` |\n|---|---|---|---|\n" + rows


def on_page_markdown(markdown: str, page, config, files) -> str:
    from vga.contract import dictionary_markdown
    from vga.errors import exit_codes_markdown

    generated = {
        "<!-- data-dictionary -->": dictionary_markdown,
        "<!-- exit-codes -->": exit_codes_markdown,
        "<!-- commands -->": _commands,
        "<!-- glossary -->": _glossary,
        "<!-- chapters -->": _chapters,
        "<!-- chapter-blocks -->": _chapter_blocks,
    }
    for marker, make in generated.items():
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown
