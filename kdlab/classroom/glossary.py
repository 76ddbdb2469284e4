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

GLOSSARY_PAGE = next(entry for entry in PAGES if entry.path == "pages/glossary.py")
ANCHOR = re.compile(r"[a-z][a-z0-9-]{0,40}")


@dataclass(frozen=True)
class Term:
    """One word: how the page titles it, its anchor (the part after ``#`` in a link), its text (Markdown, one to
    three short sentences, the number that matters first), whether it belongs to the advanced part, and the words
    that name it in a sentence (a regular expression, case-insensitive; the anchor's words when empty)."""

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
        object.__setattr__(self, "words", self.words or self.anchor.replace("-", " "))


TERMS = (
    Term(
        "Teacher",
        "teacher",
        "A big network that is already trained and good: on full MNIST the lab's teacher gets more than 99 of 100 "
        "test digits right. The student learns from its answers.",
        words=r"teachers?",
    ),
    Term(
        "Student",
        "student",
        "The smaller network we want to train. The lab trains it twice: once with the teacher's help (the "
        "*distilled* student) and once from the labels alone.",
        words=r"students?",
    ),
    # Before "Logit": a sentence's words are tried in this order, and "logit" alone would take "logit matching".
    Term(
        "Logit matching",
        "logit-matching",
        "Training the student to copy the teacher's scores (logits) themselves, with a squared error, after "
        "taking away the mean of each image's ten scores. It is what distillation becomes at a very high temperature: at "
        "T = 50 KD pushes the scores 0.99 of the way logit matching does (Hinton et al. 2015).",
        advanced=True,
        words=r"logit matching",
    ),
    Term(
        "Logit",
        "logit",
        "The raw score a network gives each of the 10 digits, before they become probabilities. A bigger score "
        'means "more likely". Example: scores 9, 4 and -2 for the digits 3, 5 and 1.',
        words=r"logits?",
    ),
    Term(
        "Softmax",
        "softmax",
        "Turns the 10 scores (logits) into 10 probabilities that add up to 1. The biggest score gets the biggest "
        "probability. In Python: `exp(z) / exp(z).sum()`.",
    ),
    Term(
        "Temperature (T)",
        "temperature",
        "A number that divides the scores before the softmax. T = 1 is the usual softmax; a bigger T gives the "
        "wrong digits more probability, so you can see them. For one network it never changes which digit comes first.",
        words=r"temperatures?",
    ),
    Term(
        "Soft target",
        "soft-target",
        "The teacher's 10 probabilities at temperature T, which the student learns to copy. Example: *3: 90%, "
        "5: 6%, 8: 3%, ...* instead of just *3*.",
        words=r"soft targets?",
    ),
    Term(
        "Hard label",
        "hard-label",
        "The right answer and nothing else: *this image is a 3*. It gives the right digit 100% and every other "
        "digit 0%.",
        words=r"hard labels?|hard targets?",
    ),
    Term(
        "Dark knowledge",
        "dark-knowledge",
        "The small probabilities the teacher gives the wrong digits. They say which wrong answers are less wrong: "
        "this 3 looks a bit like a 5, hardly like a 1. A label cannot say that.",
    ),
    Term(
        "KL divergence",
        "kl-divergence",
        "A number that says how far apart two sets of probabilities are: 0 when they are the same, bigger when "
        "they differ. The student lowers it to make its soft outputs match the teacher's.",
        words=r"KL divergence|KL",
    ),
    Term(
        "Cross-entropy",
        "cross-entropy",
        "The usual loss for learning from labels: small when the network gives the right digit a high "
        "probability. Example: 90% on the right digit costs 0.11; 10% costs 2.3.",
        words=r"cross-entropy",
    ),
    Term(
        "alpha",
        "alpha",
        "A number from 0 to 1 that sets the balance: alpha = 0.9 weighs copying the teacher by 0.9 and the labels "
        "by 0.1. alpha = 0 ignores the teacher; alpha = 1 ignores the labels.",
    ),
    Term(
        "Transfer set",
        "transfer-set",
        "The images the student trains on while it copies the teacher: in the lab, the training images you "
        f"choose ({DEMO_TRAIN_SIZE:,} by default). Both students see exactly the same ones.",
        words=r"transfer sets?|transfer images",
    ),
    Term(
        "Seed",
        "seed",
        "A number that fixes the random choices: the first weights and the order of the images. Same seed, "
        "same run. A different seed can change the result by several errors, so one run proves little.",
        words=r"seeds?",
    ),
    Term(
        "Epoch",
        "epoch",
        "One pass through every training image. 10 epochs on 5,000 images means the student sees 50,000 images in all.",
        words=r"epochs?",
    ),
    Term(
        "Test error",
        "test-error",
        "How many of the test images a network gets wrong. The test images are never used for training, so "
        "this is a fair score. Example: 150 errors on 10,000 images is 98.5% right.",
        words=r"test errors?",
    ),
    Term(
        "Calibration and ECE",
        "calibration",
        "A network is well calibrated when it is right 80% of the time on the answers it gives 80% to. ECE "
        "(expected calibration error) measures the gap: 0 is perfect. kdlab sorts the answers into "
        f"{ECE_BINS} groups by confidence and averages their gaps, weighted by how many answers each holds.",
        advanced=True,
        words=r"calibration|ECE",
    ),
    Term(
        "Parameter count",
        "parameters",
        "How many numbers (weights) a network learns: the size of the model. Fewer parameters make a smaller, "
        "faster network. Example: a student with one layer of 100 units has about 80,000.",
        words=r"parameters?",
    ),
    Term(
        "Optimiser (Adam, cosine decay)",
        "optimiser",
        "How the weights change after each batch. The lab uses Adam, which picks a step size for each weight, "
        "and lowers the learning rate smoothly to 0 by the last epoch (cosine decay).",
        advanced=True,
        words=r"Adam|cosine decay|optimi[sz]er",
    ),
    Term(
        "TCKD and NCKD",
        "tckd-nckd",
        "Two parts of the soft target (Zhao et al. 2022). TCKD: how sure the teacher is of the right digit. "
        "NCKD: how it ranks the wrong digits among themselves. Classical distillation weights NCKD by the "
        "teacher's probability left for the wrong digits, 1 - p(right digit): small when the teacher is sure.",
        advanced=True,
        words=r"TCKD|NCKD",
    ),
    Term(
        "Feature map",
        "feature-map",
        "What one filter of a conv block computes over the image: a small grid, bright where the filter's pattern "
        "(an edge, a curve) appears. cnn-wide's first block makes 32 maps of 12 x 12 for each digit.",
        words=r"feature maps?",
    ),
    Term(
        "Attention map",
        "attention-map",
        "Where a conv block looks: at each place of the grid, its maps' squared activations added up over all "
        "channels, then scaled to length 1 (Zagoruyko & Komodakis 2017). Attention transfer trains the student's "
        "maps to light up where the teacher's do.",
        words=r"attention maps?",
    ),
    Term(
        "Hint",
        "hint",
        "A teacher's hidden layer that a student copies (Romero et al. 2015, FitNets): a small regressor maps the "
        "student's layer to the teacher's size, and an L2 loss pulls them together.",
        advanced=True,
        words=r"hint layers?|hints?",
    ),
    Term(
        "Feature-based distillation",
        "feature-based-distillation",
        "Distillation that copies what the teacher computes on the way to its answer, its features (attention maps "
        "or a hint layer), not only its soft targets. Classical KD is response-based: it copies the outputs only.",
        words=r"feature-based distillation|feature-based",
    ),
    Term(
        "Relation-based distillation",
        "relation-based-distillation",
        "Distillation that copies how the teacher relates digits to each other: how far apart (RKD, Park et al. "
        "2019) or how similar (SP, Tung & Mori 2019) it finds each pair in a batch, not what it says about one digit.",
        advanced=True,
        words=r"relation-based distillation|relation-based",
    ),
    Term(
        "Standardised logits",
        "standardised-logits",
        "Each digit's 10 scores z-scored before dividing by T: minus their mean, over their spread (Sun et al. "
        "2024). The student then copies how the teacher's scores relate, not how big they are.",
        advanced=True,
        words=r"standardi[sz]ed logits|standardi[sz]e the logits|standardi[sz]ing",
    ),
    Term(
        "Effective temperature",
        "effective-temperature",
        "The temperature standardised logits amount to for one digit: T times the spread (standard deviation) of "
        "its scores. Example: T = 4 and scores spread by 6.7 soften like T = 27 on the raw scores.",
        advanced=True,
        words=r"effective temperatures?",
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
_WORDS = re.compile(
    _SKIP + "|" + "|".join(rf"\b(?P<t{index}>{term.words})\b" for index, term in enumerate(TERMS)), re.IGNORECASE
)


class FirstUses:
    """Links each glossary term where a page first uses it: ``link`` is called on the page's texts in the order
    the page shows them, and the first use of each term (in any of them) becomes a ``term_link``; later uses stay
    plain. Maths, code spans, links and addresses are left alone."""

    def __init__(self) -> None:
        self.linked: set[str] = set()

    def link(self, text: str) -> str:
        """``text`` with the first use of each term not linked before made a link."""

        def replace(match: re.Match) -> str:
            name = match.lastgroup
            if name is None:  # maths, code, a link or an address
                return match.group(0)
            anchor = TERMS[int(name[1:])].anchor
            if anchor in self.linked:
                return match.group(0)
            self.linked.add(anchor)
            return term_link(anchor, match.group(0))

        return _WORDS.sub(replace, text)
