"""The student glossary: each word the app uses, declared once, in words for a 16-year-old who knows some Python
and no machine learning. The Glossary page draws it; every other page links a word to its entry with
``term_link`` (a Markdown link to the page's URL path and the term's anchor, ``glossary#temperature``), so no
page writes a glossary address by hand. Plain Python, no Streamlit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kdlab.classroom.pages import PAGES
from kdlab.experiments.card import ECE_BINS
from kdlab.experiments.distill import DEMO_TRAIN_SIZE
from kdlab.i18n import N_, PSEUDO, _, current_language, number, translations

GLOSSARY_PAGE = next(entry for entry in PAGES if entry.path == "pages/glossary.py")
ANCHOR = re.compile(r"[a-z][a-z0-9-]{0,40}")


@dataclass(frozen=True)
class Term:
    """One word: how the page titles it, its anchor (the part after ``#`` in a link), its text (Markdown, one to
    three short sentences, the number that matters first; ``{train_size}`` and ``{bins}`` filled where shown),
    whether it belongs to the advanced part, and the words that name it in a sentence (its forms separated by
    ``|``, matched whole and case-insensitively; the term itself when empty). The term, the text and the words are
    English messages (``N_``), translated where shown: ``title``, ``definition`` and ``FirstUses``."""

    term: str
    anchor: str
    text: str
    advanced: bool = False
    words: str = ""

    def __post_init__(self):
        if not ANCHOR.fullmatch(self.anchor):
            raise ValueError(f"term {self.term!r}: its anchor {self.anchor!r} must be lower-case letters and dashes")
        if not self.text.strip():
            raise ValueError(f"term {self.term!r} needs a text")
        object.__setattr__(self, "words", self.words or self.term)

    @property
    def title(self) -> str:
        """The term in the current language."""
        return _(self.term)

    @property
    def definition(self) -> str:
        """The text in the current language, its numbers written for it."""
        return _(self.text).format(train_size=number(DEMO_TRAIN_SIZE), bins=number(ECE_BINS))


TERMS = (
    Term(
        N_("Teacher"),
        "teacher",
        N_(
            "A big network that is already trained and good: on full MNIST the lab's teacher gets more than 99 of 100 "
            "test digits right. The student learns from its answers."
        ),
        # Translators: a term's words are the forms a sentence uses for it, separated by |; a page links the first
        # one it shows to the glossary. Give every form your texts use (plurals, gender): "profesor|profesores".
        words=N_("teacher|teachers"),
    ),
    Term(
        N_("Student"),
        "student",
        N_(
            "The smaller network we want to train. The lab trains it twice: once with the teacher's help (the "
            "*distilled* student) and once from the labels alone."
        ),
        words=N_("student|students"),
    ),
    Term(
        N_("Logit matching"),
        "logit-matching",
        N_(
            "Training the student to copy the teacher's scores (logits) themselves, with a squared error, after "
            "taking away the mean of each image's ten scores. It is what distillation becomes at a very high temperature: at "
            "T = 50 KD pushes the scores 0.99 of the way logit matching does (Hinton et al. 2015)."
        ),
        advanced=True,
        words=N_("logit matching"),
    ),
    Term(
        N_("Logit"),
        "logit",
        N_(
            "The raw score a network gives each of the 10 digits, before they become probabilities. A bigger score "
            'means "more likely". Example: scores 9, 4 and -2 for the digits 3, 5 and 1.'
        ),
        words=N_("logit|logits"),
    ),
    Term(
        N_("Softmax"),
        "softmax",
        N_(
            "Turns the 10 scores (logits) into 10 probabilities that add up to 1. The biggest score gets the biggest "
            "probability. In Python: `exp(z) / exp(z).sum()`."
        ),
    ),
    Term(
        N_("Temperature (T)"),
        "temperature",
        N_(
            "A number that divides the scores before the softmax. T = 1 is the usual softmax; a bigger T gives the "
            "wrong digits more probability, so you can see them. For one network it never changes which digit comes first."
        ),
        words=N_("temperature|temperatures"),
    ),
    Term(
        N_("Soft target"),
        "soft-target",
        N_(
            "The teacher's 10 probabilities at temperature T, which the student learns to copy. Example: *3: 90%, "
            "5: 6%, 8: 3%, ...* instead of just *3*."
        ),
        words=N_("soft target|soft targets"),
    ),
    Term(
        N_("Hard label"),
        "hard-label",
        N_(
            "The right answer and nothing else: *this image is a 3*. It gives the right digit 100% and every other "
            "digit 0%."
        ),
        words=N_("hard label|hard labels|hard target|hard targets"),
    ),
    Term(
        N_("Dark knowledge"),
        "dark-knowledge",
        N_(
            "The small probabilities the teacher gives the wrong digits. They say which wrong answers are less wrong: "
            "this 3 looks a bit like a 5, hardly like a 1. A label cannot say that."
        ),
    ),
    Term(
        N_("KL divergence"),
        "kl-divergence",
        N_(
            "A number that says how far apart two sets of probabilities are: 0 when they are the same, bigger when "
            "they differ. The student lowers it to make its soft outputs match the teacher's."
        ),
        words=N_("KL divergence|KL"),
    ),
    Term(
        N_("Cross-entropy"),
        "cross-entropy",
        N_(
            "The usual loss for learning from labels: small when the network gives the right digit a high "
            "probability. Example: 90% on the right digit costs 0.11; 10% costs 2.3."
        ),
        words=N_("cross-entropy"),
    ),
    Term(
        N_("alpha"),
        "alpha",
        N_(
            "A number from 0 to 1 that sets the balance: alpha = 0.9 weighs copying the teacher by 0.9 and the labels "
            "by 0.1. alpha = 0 ignores the teacher; alpha = 1 ignores the labels."
        ),
    ),
    Term(
        N_("Transfer set"),
        "transfer-set",
        N_(
            "The images the student trains on while it copies the teacher: in the lab, the training images you "
            "choose ({train_size} by default). Both students see exactly the same ones."
        ),
        words=N_("transfer set|transfer sets|transfer images"),
    ),
    Term(
        N_("Seed"),
        "seed",
        N_(
            "A number that fixes the random choices: the first weights and the order of the images. Same seed, "
            "same run. A different seed can change the result by several errors, so one run proves little."
        ),
        words=N_("seed|seeds"),
    ),
    Term(
        N_("Epoch"),
        "epoch",
        N_(
            "One pass through every training image. 10 epochs on 5,000 images means the student sees 50,000 images in all."
        ),
        words=N_("epoch|epochs"),
    ),
    Term(
        N_("Test error"),
        "test-error",
        N_(
            "How many of the test images a network gets wrong. The test images are never used for training, so "
            "this is a fair score. Example: 150 errors on 10,000 images is 98.5% right."
        ),
        words=N_("test error|test errors"),
    ),
    Term(
        N_("Calibration and ECE"),
        "calibration",
        N_(
            "A network is well calibrated when it is right 80% of the time on the answers it gives 80% to. ECE "
            "(expected calibration error) measures the gap: 0 is perfect. kdlab sorts the answers into "
            "{bins} groups by confidence and averages their gaps, weighted by how many answers each holds."
        ),
        advanced=True,
        words=N_("calibration|ECE"),
    ),
    Term(
        N_("Parameter count"),
        "parameters",
        N_(
            "How many numbers (weights) a network learns: the size of the model. Fewer parameters make a smaller, "
            "faster network. Example: a student with one layer of 100 units has about 80,000."
        ),
        words=N_("parameter|parameters"),
    ),
    Term(
        N_("Optimiser (Adam, cosine decay)"),
        "optimiser",
        N_(
            "How the weights change after each batch. The lab uses Adam, which picks a step size for each weight, "
            "and lowers the learning rate smoothly to 0 by the last epoch (cosine decay)."
        ),
        advanced=True,
        words=N_("Adam|cosine decay|optimiser|optimizer"),
    ),
    Term(
        N_("TCKD and NCKD"),
        "tckd-nckd",
        N_(
            "Two parts of the soft target (Zhao et al. 2022). TCKD: how sure the teacher is of the right digit. "
            "NCKD: how it ranks the wrong digits among themselves. Classical distillation weights NCKD by the "
            "teacher's probability left for the wrong digits, 1 - p(right digit): small when the teacher is sure."
        ),
        advanced=True,
        words=N_("TCKD|NCKD"),
    ),
    Term(
        N_("Feature map"),
        "feature-map",
        N_(
            "What one filter of a conv block computes over the image: a small grid, bright where the filter's pattern "
            "(an edge, a curve) appears. cnn-wide's first block makes 32 maps of 12 x 12 for each digit."
        ),
        words=N_("feature map|feature maps"),
    ),
    Term(
        N_("Attention map"),
        "attention-map",
        N_(
            "Where a conv block looks: at each place of the grid, its maps' squared activations added up over all "
            "channels, then scaled to length 1 (Zagoruyko & Komodakis 2017). Attention transfer trains the student's "
            "maps to light up where the teacher's do."
        ),
        words=N_("attention map|attention maps"),
    ),
    Term(
        N_("Hint"),
        "hint",
        N_(
            "A teacher's hidden layer that a student copies (Romero et al. 2015, FitNets): a small regressor maps the "
            "student's layer to the teacher's size, and an L2 loss pulls them together."
        ),
        advanced=True,
        words=N_("hint layer|hint layers|hint|hints"),
    ),
    Term(
        N_("Feature-based distillation"),
        "feature-based-distillation",
        N_(
            "Distillation that copies what the teacher computes on the way to its answer, its features (attention maps "
            "or a hint layer), not only its soft targets. Classical KD is response-based: it copies the outputs only."
        ),
        words=N_("feature-based distillation|feature-based"),
    ),
    Term(
        N_("Relation-based distillation"),
        "relation-based-distillation",
        N_(
            "Distillation that copies how the teacher relates digits to each other: how far apart (RKD, Park et al. "
            "2019) or how similar (SP, Tung & Mori 2019) it finds each pair in a batch, not what it says about one digit."
        ),
        advanced=True,
        words=N_("relation-based distillation|relation-based"),
    ),
    Term(
        N_("Standardised logits"),
        "standardised-logits",
        N_(
            "Each digit's 10 scores z-scored before dividing by T: minus their mean, over their spread (Sun et al. "
            "2024). The student then copies how the teacher's scores relate, not how big they are."
        ),
        advanced=True,
        words=N_(
            "standardised logits|standardized logits|standardise the logits|standardize the logits|standardising|standardizing"
        ),
    ),
    Term(
        N_("Effective temperature"),
        "effective-temperature",
        N_(
            "The temperature standardised logits amount to for one digit: T times the spread (standard deviation) of "
            "its scores. Example: T = 4 and scores spread by 6.7 soften like T = 27 on the raw scores."
        ),
        advanced=True,
        words=N_("effective temperature|effective temperatures"),
    ),
)
TERMS_BY_ANCHOR = {term.anchor: term for term in TERMS}


def term_link(anchor: str, text: str) -> str:
    """A Markdown link showing ``text`` to the glossary's entry ``anchor``. The address is relative to the page
    (``glossary#temperature``), so it works under any base path; Streamlit opens it in a new tab (the student's
    page stays as it was), and the Glossary page scrolls to the entry. An unknown anchor raises ``ValueError``,
    listing the known ones."""
    if anchor not in TERMS_BY_ANCHOR:
        raise ValueError(f"{anchor!r} is not a glossary term ({', '.join(TERMS_BY_ANCHOR)})")
    return f"[{text}]({GLOSSARY_PAGE.url_path}#{anchor})"


def glossary_link(text: str) -> str:
    """A Markdown link showing ``text`` to the Glossary page itself (see ``term_link``)."""
    return f"[{text}]({GLOSSARY_PAGE.url_path})"


# What a term's words never match inside: inline maths ($z_t$), a code span, a Markdown link or an address.
_SKIP = r"\$[^$\n]*\$|`[^`\n]*`|\[[^\]\n]*\]\([^)\n]*\)|https?://\S+"
_PATTERNS: dict[str, tuple[re.Pattern, tuple[str, ...]]] = {}  # language -> (its words' pattern, each group's anchor)


def term_forms(language: str) -> list[tuple[str, str]]:
    """Every (form, anchor) of the terms' words in ``language`` (English for the pseudo-language, whose markers
    are no words), each form once."""
    catalogue = translations(language)
    forms = {}
    for term in TERMS:
        for form in catalogue.gettext(term.words).split("|"):
            forms.setdefault(" ".join(form.split()).casefold(), (" ".join(form.split()), term.anchor))
    return [pair for key, pair in forms.items() if key]


def words_pattern(language: str) -> tuple[re.Pattern, tuple[str, ...]]:
    """The pattern that finds the terms' words in ``language``'s text, and the anchor of each of its groups.
    Longer forms are tried first, so "temperatura efectiva" is one term, not "temperatura" and a word; a form
    matches whole words only. Built once per language and shared read-only."""
    found = _PATTERNS.get(language)
    if found is None:
        pairs = sorted(term_forms(language), key=lambda pair: -len(pair[0]))
        alternatives = (rf"(?<!\w)(?P<g{index}>{re.escape(form)})(?!\w)" for index, (form, anchor) in enumerate(pairs))
        found = re.compile(_SKIP + "|" + "|".join(alternatives), re.IGNORECASE), tuple(anchor for form, anchor in pairs)
        _PATTERNS[language] = found
    return found


class FirstUses:
    """Links each glossary term where a page first uses it: ``link`` is called on the page's texts in the order
    the page shows them, and the first use of each term (in any of them) becomes a ``term_link``; later uses stay
    plain. The words are the current language's (its translation of each term's forms). Maths, code spans, links
    and addresses are left alone."""

    def __init__(self) -> None:
        self.linked: set[str] = set()

    def link(self, text: str) -> str:
        """``text`` with the first use of each term not linked before made a link."""
        language = current_language()
        pattern, anchors = words_pattern("en" if language == PSEUDO else language)

        def replace(match: re.Match) -> str:
            name = match.lastgroup
            if name is None:  # maths, code, a link or an address
                return match.group(0)
            anchor = anchors[int(name[1:])]
            if anchor in self.linked:
                return match.group(0)
            self.linked.add(anchor)
            return term_link(anchor, match.group(0))

        return pattern.sub(replace, text)
