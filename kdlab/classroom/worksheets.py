"""Printable worksheets: a lesson (``kdlab.classroom.lessons``) as one HTML page with a print stylesheet (A4, black
on white, no app around it) that a browser prints to paper or PDF.

The student's worksheet has the title, the goal, the prediction question with a box to answer in, each step as
a line to tick, and the discussion question with lines to write on; never what to notice or the teacher's notes.
The answer key for the instructor adds those two. The Lessons page offers both as downloads, and
``python -m kdlab worksheet`` writes them. The worksheet's own words are in the language asked for (the current one
by default), and its ``lang`` attribute says which; the lesson's texts are the lesson's. Plain Python, no Streamlit.
"""

from __future__ import annotations

import html
import re

from kdlab.classroom.lessons import Lesson
from kdlab.i18n import DEFAULT_LANGUAGE, PSEUDO, _, current_language, number, speaking

ANSWER_LINES = 3  # ruled lines under the prediction
DISCUSS_LINES = 5  # ruled lines under the discussion question
# Margins, type and lines sized so that every lesson's worksheet prints on one A4 page in Chromium: the longest,
# lesson 6, is 1,009 px tall in print against 1,017 px of page (at 18 mm margins, 11.5 pt and 6 lines: 1,024
# against 986, two pages). Answer keys may take two.
STYLE = """
@page { size: A4; margin: 14mm 15mm; }
* { color: #000; background: #fff; }
body { font: 11pt/1.4 Georgia, "Times New Roman", serif; max-width: 178mm; margin: 0 auto; }
h1 { font-size: 18pt; margin: 0 0 2mm; }
h2 { font-size: 12.5pt; margin: 5mm 0 1.5mm; border-bottom: 0.4pt solid #000; }
.meta { font-size: 10pt; margin: 0 0 4mm; }
.name { display: flex; gap: 8mm; margin: 3mm 0 4mm; }
.name span { flex: 1; border-bottom: 0.6pt solid #000; padding-top: 6mm; font-size: 9pt; }
.line { border-bottom: 0.6pt solid #000; height: 8mm; }
ul.steps { list-style: none; padding: 0; margin: 0; }
ul.steps li { margin: 0 0 2.5mm; padding-left: 7mm; text-indent: -7mm; break-inside: avoid; }
ul.choices { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 2mm 8mm; }
ul.choices li::before { content: "\\2610"; margin-right: 2mm; font-size: 13pt; }
.blank { display: inline-block; width: 30mm; border-bottom: 0.6pt solid #000; }
ul.steps li::before { content: "\\2610"; display: inline-block; width: 7mm; text-indent: 0; font-size: 13pt; }
.key { border: 0.8pt solid #000; padding: 2mm 3mm; }
section { break-inside: avoid; }
a { text-decoration: none; }
@media screen { body { margin: 12mm auto; } }
"""


def worksheet_html(lesson: Lesson, *, answers: bool = False, language: str | None = None) -> str:
    """The lesson's worksheet as a whole HTML page (``answers``: the instructor's answer key, which adds what to
    notice and the teacher's notes), its own words in ``language`` (the current one when None). Every text from
    the lesson file is escaped."""
    with speaking(language):
        return _worksheet_html(lesson, answers)


def _worksheet_html(lesson: Lesson, answers: bool) -> str:
    # Each message outside the f-strings: pybabel does not extract a call inside one.
    title = _("{title}: answer key").format(title=lesson.title) if answers else lesson.title
    meta = _word(_("kdlab lesson, about {minutes} minutes").format(minutes=number(lesson.minutes)))
    goal, predict, steps, step = _word(_("Goal")), _word(_("Predict first")), _word(_("Steps")), _("Step {number}.")
    discuss, notice, notes = _word(_("Discuss")), _word(_("What to notice")), _word(_("Notes for the teacher"))
    parts = [f"<h1>{_text(title)}</h1>", f'<p class="meta">{meta}</p>']
    if not answers:
        names = "".join(f"<span>{_word(name)}</span>" for name in (_("Name"), _("Group"), _("Date")))
        parts.append(f'<div class="name">{names}</div>')
    parts += [
        f"<section><h2>{goal}</h2><p>{_text(lesson.goal)}</p></section>",
        f"<section><h2>{predict}</h2><p>{_text(lesson.prediction)}</p>",
        _answer_space(lesson) if not answers else "",
        "</section>",
        f'<section><h2>{steps}</h2><ul class="steps">',
        *(
            f"<li>{_word(step.format(number=index))} {_text(one.text)}</li>"
            for index, one in enumerate(lesson.steps, start=1)
        ),
        "</ul></section>",
        f"<section><h2>{discuss}</h2><p>{_text(lesson.discuss)}</p>",
        "" if answers else _lines(DISCUSS_LINES),
        "</section>",
    ]
    if answers:
        parts.append(f'<section><h2>{notice}</h2><div class="key"><p>{_text(lesson.notice)}</p></div></section>')
        if lesson.notes:
            parts.append(f"<section><h2>{notes}</h2>" + _paragraphs(lesson.notes) + "</section>")
    body = "\n".join(part for part in parts if part)
    code = current_language()
    return (
        f'<!DOCTYPE html>\n<html lang="{DEFAULT_LANGUAGE if code == PSEUDO else code}">\n<head>\n'
        f'<meta charset="utf-8">\n<title>{_text(title)}</title>\n'
        f"<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def worksheet_file_name(lesson: Lesson, *, answers: bool = False) -> str:
    """``kdlab-worksheet-<slug>.html``, or ``kdlab-answer-key-<slug>.html``."""
    return f"kdlab-{'answer-key' if answers else 'worksheet'}-{lesson.slug}.html"


def _answer_space(lesson: Lesson) -> str:
    """Where the student answers the lesson's question: a box to tick per choice, a blank with the unit for a
    number, ruled lines for a lesson without a question."""
    question = lesson.question
    if question is None:
        return _lines(ANSWER_LINES)
    if question.kind == "choice":
        return '<ul class="choices">' + "".join(f"<li>{_text(choice)}</li>" for choice in question.choices) + "</ul>"
    mine = _word(_("My prediction:"))
    return f'<p class="number">{mine} <span class="blank"></span> {_text(question.unit)}</p>' + _lines(1)


def _word(text: str) -> str:
    """The worksheet's own words (a translation), escaped."""
    return html.escape(text, quote=True)


def _lines(count: int) -> str:
    return "".join('<div class="line"></div>' for _ in range(count))


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def _text(text: str) -> str:
    """A lesson's text, escaped, with its Markdown bold and code spans kept (the only Markdown lessons use)."""
    escaped = html.escape(text, quote=True)
    return _CODE.sub(r"<code>\1</code>", _BOLD.sub(r"<strong>\1</strong>", escaped))


def _paragraphs(markdown: str) -> str:
    """The teacher's notes: one paragraph per block between blank lines."""
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", markdown.strip()) if block.strip()]
    return "".join(f"<p>{_text(block)}</p>" for block in blocks)
