"""The overview's revenue chart: a y-axis whose top is a round amount just above the best day,
so its three labels (top, half, zero) read like a ruler."""
from __future__ import annotations

from dataclasses import dataclass

#: Multipliers of a power of ten that make a round axis top.
_ROUND_STEPS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)


@dataclass(frozen=True)
class Axis:
    #: The amount (minor units) at the top of the plot; 0 when there is nothing to plot.
    top: int

    @property
    def ticks(self) -> list[int]:
        """Labelled amounts, top first: the top, its half, zero (just zero for an empty chart)."""
        return [self.top, self.top // 2, 0] if self.top else [0]

    def height(self, amount: int, plot_height: float) -> float:
        return amount / self.top * plot_height if self.top else 0.0


def revenue_axis(peak: int) -> Axis:
    """The smallest round amount (minor units) ≥ `peak` with a whole half: 2,840 → 3,000;
    131 → 150; 7 → 8; 0 → 0. Round in minor units is round in major units too ($30.00, ¥8)."""
    if peak <= 0:
        return Axis(top=0)
    magnitude = 1
    while magnitude * 10 <= peak:
        magnitude *= 10
    for step in _ROUND_STEPS:
        top = round(step * magnitude)
        if top >= peak and top % 2 == 0:
            return Axis(top=top)
    return Axis(top=10 * magnitude)  # not reached: the last step is above the peak and even
