"""Pruning schedules: ``schedule(step) -> (prune_now, sparsity)``, TF-MOT's formulas."""

from __future__ import annotations


class PruningSchedule:
    """Base class: prune every ``frequency`` steps from ``begin_step`` to ``end_step``
    inclusive (``end_step = -1``: forever)."""

    def __init__(self, begin_step: int, end_step: int, frequency: int) -> None:
        if begin_step < 0 or frequency <= 0 or (end_step >= 0 and end_step < begin_step):
            raise ValueError(f"need begin_step >= 0, frequency > 0 and end_step >= begin_step "
                             f"(or -1), got {begin_step}, {frequency}, {end_step}")
        self.begin_step, self.end_step, self.frequency = int(begin_step), int(end_step), \
            int(frequency)

    def _should_prune_in_step(self, step: int) -> bool:
        in_range = step >= self.begin_step and (step <= self.end_step or self.end_step < 0)
        return in_range and (step - self.begin_step) % self.frequency == 0

    def __call__(self, step: int) -> tuple[bool, float]:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"class_name": type(self).__name__, "config": dict(vars(self))}


class ConstantSparsity(PruningSchedule):
    """``target_sparsity`` at every pruning step."""

    def __init__(self, target_sparsity: float, begin_step: int, end_step: int = -1,
                 frequency: int = 100) -> None:
        if not 0.0 <= target_sparsity < 1.0:
            raise ValueError(f"target_sparsity must be in [0, 1), got {target_sparsity}")
        super().__init__(begin_step, end_step, frequency)
        self.target_sparsity = float(target_sparsity)

    def __call__(self, step: int) -> tuple[bool, float]:
        return self._should_prune_in_step(int(step)), self.target_sparsity


class PolynomialDecay(PruningSchedule):
    """``final + (initial - final) * (1 - p)**power`` with ``p = (step - begin) / (end -
    begin)`` clipped to [0, 1]: prunes fast at first, slowly near the end."""

    def __init__(self, initial_sparsity: float, final_sparsity: float, begin_step: int,
                 end_step: int, power: float = 3, frequency: int = 100) -> None:
        if end_step <= begin_step:
            raise ValueError(f"PolynomialDecay needs end_step > begin_step, got {begin_step}, "
                             f"{end_step}")
        for v, what in ((initial_sparsity, "initial_sparsity"), (final_sparsity, "final_sparsity")):
            if not 0.0 <= v < 1.0:
                raise ValueError(f"{what} must be in [0, 1), got {v}")
        super().__init__(begin_step, end_step, frequency)
        self.initial_sparsity, self.final_sparsity = float(initial_sparsity), float(final_sparsity)
        self.power = float(power)

    def __call__(self, step: int) -> tuple[bool, float]:
        p = min(1.0, max(0.0, (int(step) - self.begin_step) / (self.end_step - self.begin_step)))
        sparsity = (self.initial_sparsity - self.final_sparsity) * (1 - p) ** self.power \
            + self.final_sparsity
        return self._should_prune_in_step(int(step)), float(sparsity)
