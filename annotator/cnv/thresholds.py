"""Copy-number thresholds and the purity (tumour fraction) correction.

Defaults (documented in docs/cnv_sv.md), with ``P`` the tumour ploidy
(``--ploidy``, default 2):

* deep_deletion: CN < 0.5 (PURPLE driver catalogue: minimum copy number < 0.5)
* loss:          CN <= 0.75 * P   (1.5 copies in a diploid tumour)
* gain:          CN >= 1.25 * P   (2.5 copies in a diploid tumour)
* amplification: CN >= 3 * P      (6 copies in a diploid tumour; PURPLE's
  driver catalogue calls AMP at > 3x sample ploidy)

Purity correction of an observed log2 ratio (normal assumed diploid):
``R = 2**log2`` is the sample's ratio to the normal reference, and the sample
is a mixture ``R * (p*P + 2*(1-p)) = p*CN_t + 2*(1-p)``, so

    CN_t = (R * (p*P + 2*(1-p)) - 2*(1-p)) / p

which for P = 2 is CNVkit's ``call --purity`` rescaling
(``cnvlib.call._log2_ratio_to_absolute``, ref = expected copies = 2:
``(ref_copies * 2**log2 - expect_copies * (1 - purity)) / purity``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from annotator.errors import UsageError

CN_CLASSES = ("deep_deletion", "loss", "neutral", "gain", "amplification")
NORMAL_PLOIDY = 2.0
MAX_LOG2 = 64.0
# tumour ploidy accepted by --ploidy: a near-haploid to a heavily polyploid genome
PLOIDY_RANGE = (1.0, 16.0)


@dataclass(frozen=True)
class CnThresholds:
    """Thresholds on absolute tumour copy number; ratios are relative to ploidy."""

    deep_deletion_cn: float = 0.5
    loss_ratio: float = 0.75
    gain_ratio: float = 1.25
    amplification_ratio: float = 3.0
    # fraction of the gene span that segments at (or beyond) the called level must cover
    min_fraction: float = 0.5

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise UsageError("; ".join(problems))

    def problems(self) -> list[str]:
        """What is wrong with these thresholds (option names as on the command line)."""
        values = {
            "--deep-deletion-cn": self.deep_deletion_cn, "--loss-ratio": self.loss_ratio,
            "--gain-ratio": self.gain_ratio, "--amp-ratio": self.amplification_ratio,
            "--cn-min-fraction": self.min_fraction,
        }
        bad = [f"{k} must be a finite number, not {v}" for k, v in values.items()
               if not isinstance(v, (int, float)) or not math.isfinite(v)]
        if bad:
            return bad
        out = []
        if not 0 <= self.deep_deletion_cn < 100:
            out.append(f"--deep-deletion-cn must be in [0, 100), not {self.deep_deletion_cn:g}")
        if not 0 < self.loss_ratio < 1 < self.gain_ratio < self.amplification_ratio <= 1000:
            out.append(
                "copy-number ratios must satisfy 0 < --loss-ratio < 1 < --gain-ratio < "
                f"--amp-ratio <= 1000, not {self.loss_ratio:g}, {self.gain_ratio:g}, "
                f"{self.amplification_ratio:g}"
            )
        if not 0 < self.min_fraction <= 1:
            out.append(f"--cn-min-fraction must be in (0, 1], not {self.min_fraction:g}")
        return out

    def classify(self, cn: float, ploidy: float = NORMAL_PLOIDY) -> str:
        """deep_deletion / loss / neutral / gain / amplification for one copy number."""
        if cn < self.deep_deletion_cn:
            return "deep_deletion"
        if cn >= self.amplification_ratio * ploidy:
            return "amplification"
        if cn >= self.gain_ratio * ploidy:
            return "gain"
        if cn <= self.loss_ratio * ploidy:
            return "loss"
        return "neutral"


DEFAULT_THRESHOLDS = CnThresholds()


def option_problems(tumor_fraction: float | None, ploidy: float) -> list[str]:
    """Range checks of ``--tumor-fraction`` and ``--ploidy`` (also for API callers)."""
    out = []
    tf = tumor_fraction
    if tf is not None and not (isinstance(tf, (int, float)) and math.isfinite(tf) and 0 < tf <= 1):
        out.append(f"--tumor-fraction must be in (0, 1], not {tf}")
    lo, hi = PLOIDY_RANGE
    if not (isinstance(ploidy, (int, float)) and math.isfinite(ploidy) and lo <= ploidy <= hi):
        out.append(f"--ploidy must be in [{lo:g}, {hi:g}], not {ploidy}")
    return out


def cn_from_log2(
    log2: float, purity: float | None = None, ploidy: float = NORMAL_PLOIDY
) -> float:
    """Absolute tumour copy number from a log2 ratio against a diploid normal reference.

    Without ``purity`` the sample is taken as pure: CN = 2 * 2**log2.
    The result is clipped at 0 (noise can push a corrected value below zero).
    """
    if math.isnan(log2):
        raise ValueError("log2 ratio is NaN")
    ratio = 2.0 ** min(log2, MAX_LOG2)  # 2**1024 overflows; 2**64 is beyond any copy number
    if purity is None or purity >= 1.0:
        return max(0.0, NORMAL_PLOIDY * ratio)
    if purity <= 0:
        raise UsageError(f"tumour fraction must be in (0, 1], not {purity}")
    normal = NORMAL_PLOIDY * (1.0 - purity)
    return max(0.0, (ratio * (purity * ploidy + normal) - normal) / purity)


def cn_from_fold_change(
    fold_change: float, purity: float | None = None, ploidy: float = NORMAL_PLOIDY
) -> float:
    """Fold change against a diploid normal (DRAGEN/TSO500 ``FOLD_CHANGE``) -> tumour CN."""
    if fold_change <= 0:
        return 0.0
    return cn_from_log2(math.log2(fold_change), purity, ploidy)


def log2_from_cn(cn: float, ploidy: float = NORMAL_PLOIDY) -> float | None:
    """log2(CN / ploidy) for display when only an absolute CN is known (None at CN 0)."""
    if cn <= 0:
        return None
    return math.log2(cn / ploidy)
