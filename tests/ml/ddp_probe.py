"""Run `manage.py train ARGS` under torchrun and save each rank's final weights as RUN_DIR/rank-<r>.pt.

Only observes: TrainingRun.execute runs unchanged, then its model's state dict is saved.
"""

from __future__ import annotations

import sys

import django
import torch


def main(argv: list[str]) -> None:
    django.setup()
    from django.core.management import call_command

    from plantml.training import run

    execute = run.TrainingRun.execute

    def execute_and_save(self):
        result = execute(self)
        torch.save(self.model.state_dict(), self.out / f"rank-{self.context.rank}.pt")
        return result

    run.TrainingRun.execute = execute_and_save
    call_command("train", *argv)


if __name__ == "__main__":
    main(sys.argv[1:])
