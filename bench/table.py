"""One row per figure: what we measured, its baseline, the ratio, the target, PASS/FAIL."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    name: str
    value: float
    unit: str
    baseline: float | None
    target: str
    passed: bool | None  # None: a reference figure, nothing to pass

    @property
    def ratio(self) -> str:
        if not self.baseline:
            return "-"
        return f"{self.value / self.baseline:.2f}x"


def render(rows: list[Row]) -> str:
    header = ["figure", "value", "baseline", "ratio", "target", "result"]
    lines = [[r.name, f"{r.value:.3g} {r.unit}",
              f"{r.baseline:.3g} {r.unit}" if r.baseline is not None else "-",
              r.ratio, r.target, {True: "PASS", False: "FAIL", None: "-"}[r.passed]]
             for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=False)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += ["| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
            for line in lines]
    return "\n".join(out)
