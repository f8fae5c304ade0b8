"""`make mutants`: plant one realistic bug per claim of "What the tests prove" (tests/README.md) and show that
the claim's tests fail on it.

Each mutant replaces one exact piece of source text (which must occur exactly once) in place, runs only the
claim's tests, and restores the file byte for byte, whatever happens (a failure, Ctrl-C, SIGTERM). A mutant is
*caught* when every test node it names failed (a file it names: at least one of its tests); it *survives*
otherwise; a pytest run that could not run the tests (a usage error, an interruption) is an error. The exit status is non-zero unless every mutant is caught.

    python -m plantsite.broker -- python -m tests.mutants            # all of them
    python -m plantsite.broker -- python -m tests.mutants --list     # their names and claims
    python -m plantsite.broker -- python -m tests.mutants NAME ...   # some of them

Do not edit the source tree while it runs: the mutated file is rewritten in place.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECOGNITION = "tests/recognition/test_names_plants.py"


@dataclass(frozen=True)
class Mutant:
    """A planted bug: in ``file``, ``original`` (found exactly once) becomes ``replacement``; ``tests`` must fail."""

    name: str
    claim: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]


MUTANTS = (
    Mutant(
        "training-never-steps",
        "a trained model names plants correctly (held-out top-1)",
        "plantml/training/engine.py",
        "            optimizer.step()\n",
        "            pass  # mutant: the optimizer never steps\n",
        (f"{RECOGNITION}::test_the_trained_model_reaches_its_held_out_top1",),
    ),
    Mutant(
        "short-run-never-steps",
        "a short train run registers and serves a model that predicts",
        "plantml/training/engine.py",
        "            optimizer.step()\n",
        "            pass  # mutant: the optimizer never steps\n",
        ("tests/ml/test_train_integration.py::test_train_registers_and_activates_a_model_that_predicts",),
    ),
    Mutant(
        "served-labels-shifted",
        "the worker names class k for a class-k photo (train and serve agree on labels)",
        "plantml/predictor.py",
        "Prediction(self.spec.class_names[i], self.spec.display_names[i], float(p))",
        "Prediction(self.spec.class_names[(i + 1) % len(self.spec.class_names)], self.spec.display_names[i], float(p))",
        (
            f"{RECOGNITION}::test_the_identify_page_names_each_class",
            f"{RECOGNITION}::test_the_api_names_each_class",
        ),
    ),
    Mutant(
        "calibrated-on-train",
        "training stores a calibration fitted on val",
        "plantml/training/run.py",
        "            self.splits.val,\n            self.reject_photos,\n",
        "            self.splits.train,  # mutant: calibrated on the training photos\n            self.reject_photos,\n",
        (f"{RECOGNITION}::test_training_stored_a_calibration_fitted_on_val",),
    ),
    Mutant(
        "served-score-ignores-p-plant",
        "a photo of no plant is no match / not a plant",
        "plantml/open_set.py",
        "    for probability in (plant_probability, known_probability, typicality):\n",
        "    for probability in (known_probability, typicality):  # mutant: P(plant) ignored\n",
        # the feature density alone turns the first photo of no plant away (its reason still from P(plant)), so
        # only the share of all held-out ones shows the product losing P(plant)
        (f"{RECOGNITION}::test_most_held_out_photos_of_no_plant_are_not_identified",),
    ),
    Mutant(
        "threshold-rejects-the-asked-share",
        "temperature, threshold, probe, ECE and AUROC compute what they claim",
        "plantml/open_set.py",
        "    return int((1.0 - accept_rate) * (photos - 1)) + 1",
        "    return int(accept_rate * (photos - 1)) + 1  # mutant",
        ("tests/plantml/test_open_set.py",),
    ),
    Mutant(
        "probe-val-in-sample",
        "with a plant probe, the threshold accepts the asked share of new photos like val",
        "plantml/open_set.py",
        "        out_of_fold *= out_of_fold_plant(val_features, other_plants, reject_features)\n",
        "        out_of_fold *= plant_probe.plant_probability(torch.as_tensor(val_features)).double().numpy()  # mutant\n",
        (
            "tests/plantml/test_open_set.py::"
            "test_with_a_probe_the_threshold_accepts_the_asked_share_of_new_photos_like_val",
        ),
    ),
    Mutant(
        "density-never-asked",
        "with training photos, the feature density rejects a species the logits cannot tell apart, in the Predictor "
        "and ONNX alike",
        "plantml/open_set.py",
        "    for probability in (plant_probability, known_probability, typicality):\n",
        "    for probability in (plant_probability, known_probability):  # mutant: typicality ignored\n",
        (
            "tests/plantml/test_predictor.py::test_the_predictor_answers_unknown_species_for_a_photo_outside_the_density",
        ),
    ),
    Mutant(
        "density-left-out-of-the-threshold",
        "the threshold is fitted on the score with the feature density's typicality, so it accepts the asked share "
        "of new known photos while the density rejects a species the logits cannot tell apart",
        "plantml/open_set.py",
        "        density=density,\n    )\n    top = in_sample.score(",
        "        density=None,  # mutant: the threshold fitted without the density\n    )\n    top = in_sample.score(",
        (
            "tests/plantml/test_open_set.py::"
            "test_with_training_photos_the_density_rejects_a_species_the_logits_cannot_tell_apart",
        ),
    ),
    Mutant(
        "recalibrating-drops-the-probes",
        "calibrate without --reject-data / --unknown-data keeps the probes it has",
        "plantml/evaluation/calibration.py",
        "val, reject, accept_rate, unknown, payload.get(OTHER_ROW), spec.calibration_info(), train",
        "val, reject, accept_rate, unknown, payload.get(OTHER_ROW), None, train  # mutant",
        (
            "tests/ml/test_calibrate_command.py::test_calibrating_again_without_reject_data_keeps_the_plant_probe",
            "tests/ml/test_calibrate_command.py::"
            "test_calibrating_again_without_unknown_data_keeps_the_fitted_other_plant_class",
        ),
    ),
    Mutant(
        "ddp-not-wrapped",
        "DDP trains in sync",
        "plantml/training/distributed.py",
        "    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)\n",
        "    return model  # mutant: each rank trains alone\n",
        ("tests/ml/test_ddp_sync.py",),
    ),
    Mutant(
        "tests-use-the-solo-pool",
        "tests run the production worker pool (prefork)",
        "bench/worker_process.py",
        'pool: str = "prefork"',
        'pool: str = "solo"',
        ("tests/recognition/test_worker_pool.py::test_test_workers_run_the_production_prefork_pool",),
    ),
    Mutant(
        "message-carries-the-web-time-limits",
        "time limits come from the worker's environment",
        "recognition/queueing.py",
        "            time_limit=None,\n            soft_time_limit=None,\n",
        "",
        ("tests/recognition/test_queueing.py::test_a_queued_message_carries_no_time_limits_so_the_workers_own_apply",),
    ),
    Mutant(
        "batch-without-bound",
        "micro-batching: RECOGNITION_BATCH_PHOTOS bounds a batch",
        "recognition/pipeline.py",
        "    room = settings.RECOGNITION_BATCH_PHOTOS - identification.photos.count()\n",
        "    room = 10**6  # mutant: no bound\n",
        ("tests/recognition/test_batching.py::test_a_batch_holds_at_most_the_batch_photos_setting_oldest_first",),
    ),
    Mutant(
        "dead-worker-rows-kept",
        "a worker killed mid-task leaves the identification to the next worker",
        "recognition/holders.py",
        "    if worker not in live_workers:\n        return True\n",
        "    if worker not in live_workers:\n        return False  # mutant: a dead worker's rows stay held\n",
        (
            "tests/recognition/test_tasks_worker.py::"
            "test_a_worker_killed_mid_task_leaves_the_identification_to_the_next_worker_within_seconds",
        ),
    ),
    Mutant(
        "visibility-timeout-below-the-time-limit",
        "the visibility timeout exceeds the hard time limit",
        "plantsite/settings/test.py",
        'env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 5)',
        'env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT - 5)',
        ("tests/plantsite/test_celery.py::test_celery_is_configured_for_safe_delivery",),
    ),
    Mutant(
        "tta-flips-upside-down",
        "RECOGNITION_TTA averages (horizontally) flipped views",
        "plantml/tta.py",
        "views.append(torch.flip(view, dims=[3]))",
        "views.append(torch.flip(view, dims=[2]))",
        ("tests/recognition/test_tta_setting.py",),
    ),
    Mutant(
        "class-weights-dropped",
        "class weights make a rare-class mistake cost more",
        "plantml/training/losses.py",
        "F.cross_entropy(adjusted, target, weight=weight, label_smoothing=label_smoothing)",
        "F.cross_entropy(adjusted, target, weight=None, label_smoothing=label_smoothing)",
        ("tests/plantml/test_losses.py::test_class_weights_make_a_rare_class_mistake_cost_more",),
    ),
    Mutant(
        "mixup-alpha-dropped",
        "Mixup blends each image with its partner",
        "plantml/training/mixup.py",
        "            mixup_alpha=mixup,\n",
        "            mixup_alpha=0.0,\n",
        ("tests/plantml/test_mixing.py", "tests/plantml/test_mixup.py"),
    ),
    Mutant(
        "no-clipping",
        "gradient clipping bounds a training step",
        "plantml/training/engine.py",
        "        if clip_grad > 0:\n",
        "        if clip_grad < 0:  # mutant: never clips\n",
        ("tests/plantml/test_clipping.py",),
    ),
    Mutant(
        "ema-not-restored",
        "a SIGKILLed run resumes and ends as an uninterrupted run",
        "plantml/training/resume.py",
        '            self.ema.load_state_dict(state["model_ema"])\n',
        "            pass  # mutant: the EMA restarts from the weights\n",
        (
            "tests/plantml/test_killed_resume.py::test_a_run_killed_mid_epoch_resumes_from_last_pt_across_the_phase_boundary",
        ),
    ),
    Mutant(
        "save-in-place",
        "checkpoint saves are atomic",
        "plantml/checkpoint.py",
        '    """Write a checkpoint dict (as ``load_checkpoint`` returns it) to ``path`` atomically; return the path."""\n'
        "    path = Path(path)\n"
        "    path.parent.mkdir(parents=True, exist_ok=True)\n"
        '    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:\n'
        "        torch.save(payload, handle)\n"
        "    os.replace(handle.name, path)\n",
        '    """Write a checkpoint dict (as ``load_checkpoint`` returns it) to ``path`` atomically; return the path."""\n'
        "    path = Path(path)\n"
        "    path.parent.mkdir(parents=True, exist_ok=True)\n"
        '    with open(path, "wb") as handle, open(f"{path}.tmp", "wb") as flag:  # mutant: written in place\n'
        "        flag.write(b'saving')\n"
        "        flag.flush()\n"
        "        torch.save(payload, handle)\n"
        '    os.unlink(f"{path}.tmp")\n',
        ("tests/plantml/test_killed_resume.py::test_a_kill_mid_save_leaves_the_previous_last_pt_whole",),
    ),
    Mutant(
        "best-pt-every-epoch",
        "best.pt is the last improving epoch's kept weights",
        "plantml/training/run.py",
        '        if row["score"] is None or row["is_best"]:\n',
        "        if True:  # mutant: every epoch overwrites best.pt\n",
        ("tests/plantml/test_run.py::test_best_checkpoint_is_the_last_epoch_that_improved_with_its_kept_weights",),
    ),
    Mutant(
        "no-retry",
        "a transient storage error is retried by the real worker",
        "recognition/tasks.py",
        "    autoretry_for=pipeline.TRANSIENT_ERRORS,\n",
        "    autoretry_for=(),\n",
        ("tests/recognition/test_retries.py::test_a_transient_storage_error_is_retried_and_the_retry_answers",),
    ),
    Mutant(
        "never-give-up",
        "give_up after the last retry marks the identification failed",
        "recognition/tasks.py",
        "            pipeline.give_up(args[0], exc, self.request.retries)\n",
        "            pass  # mutant: the row stays pending\n",
        ("tests/recognition/test_retries.py::test_give_up_after_the_last_retry_marks_the_identification_failed",),
    ),
    Mutant(
        "int8-runtime-serves-float",
        "a worker with RECOGNITION_RUNTIME=onnx-int8 serves the int8 export",
        "ml/runtime.py",
        '    int8 = runtime == "onnx-int8"\n',
        "    int8 = False  # mutant: the float file is served\n",
        ("tests/recognition/test_worker_models.py::test_a_worker_with_the_int8_runtime_serves_the_int8_export",),
    ),
    Mutant(
        "probe-never-asked",
        "a worker answers with the model's plant probe",
        "plantml/predictor.py",
        "none if c.plant_probe is None else",
        "none if True else",  # mutant: the probe is never asked
        ("tests/recognition/test_worker_models.py::test_a_worker_answers_with_the_models_plant_probe",),
    ),
    Mutant(
        "page-throttle-own-scope",
        "RECOGNITION_UPLOAD_RATE limits uploads through the page and the API together",
        "recognition/views.py",
        "    throttle = UploadRateThrottle()\n",
        '    throttle = type("PageThrottle", (UploadRateThrottle,), {"scope": "page_uploads"})()  # mutant\n',
        ("tests/recognition/test_upload_throttle.py",),
    ),
    Mutant(
        "api-throttle-dropped",
        "API uploads are throttled per user",
        "recognition/api/views.py",
        "        return [*throttles, UploadRateThrottle()]\n",
        "        return throttles  # mutant: no upload budget on the API\n",
        ("tests/recognition/test_api.py::test_uploads_are_throttled_per_user",),
    ),
    Mutant(
        "launcher-restarts-forever",
        "the launcher gives up on a worker that keeps exiting",
        "plantsite/launcher.py",
        "        if len(self.restarts) >= limit:\n",
        "        if len(self.restarts) >= 10 * limit:  # mutant\n",
        ("tests/plantsite/test_launcher.py::test_the_launcher_gives_up_on_a_worker_that_keeps_exiting",),
    ),
    Mutant(
        "every-skip-allowed",
        "CI has no unexpected skips",
        "tests/skips.py",
        "    return [reason for reason in reasons if not any(prefix in reason for prefix in ALLOWED_SKIPS)]\n",
        "    return []  # mutant\n",
        ("tests/plantsite/test_ci_skips.py",),
    ),
)


class Interrupted(Exception):
    """SIGTERM arrived: stop, restoring the mutated file first."""


def _terminate(signum, frame) -> None:
    raise Interrupted(signal.Signals(signum).name)


def failed_tests(junit: Path) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Return (test file, test name without parameters) of the tests that failed or errored in a JUnit XML report,
    and of those that only ran out of time (pytest-timeout): a slow machine, which proves nothing."""
    import xml.etree.ElementTree as ElementTree

    failed, timed_out = set(), set()
    for case in ElementTree.parse(junit).iter("testcase"):
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if problem is not None:
            test = (case.get("classname", "").replace(".", "/") + ".py", case.get("name", "").split("[")[0])
            message = f"{problem.get('message', '')} {problem.text or ''}"
            (timed_out if "Timeout (>" in message else failed).add(test)
    return failed, timed_out


def not_failed(mutant: Mutant, failed: set[tuple[str, str]]) -> list[str]:
    """Return the entries of ``mutant.tests`` that no failure covers (a file needs one failed test, a node its own)."""
    missing = []
    for entry in mutant.tests:
        file, _, name = entry.partition("::")
        if not any(f == file and (not name or n == name) for f, n in failed):
            missing.append(entry)
    return missing


def run_mutant(mutant: Mutant, pytest_args: list[str]) -> tuple[str, float]:
    """Apply ``mutant``, run its tests, restore the file; return (caught | SURVIVED ... | error: ..., seconds)."""
    import tempfile

    path = ROOT / mutant.file
    original = path.read_bytes()
    text = original.decode()
    if text.count(mutant.original) != 1:
        return f"error: its original text occurs {text.count(mutant.original)} times in {mutant.file}", 0.0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutant-") as scratch:
        junit = Path(scratch) / "junit.xml"
        try:
            path.write_text(text.replace(mutant.original, mutant.replacement))
            # no stale bytecode either way: the mutated file is recompiled, and so is the restored one
            env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
            command = [
                sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
                *pytest_args, *mutant.tests,
            ]  # fmt: skip
            result = subprocess.run(
                command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        finally:
            path.write_bytes(original)
            assert path.read_bytes() == original, f"{mutant.file} was not restored: `git checkout {mutant.file}`"
        seconds = time.monotonic() - started
        tail = "\n".join(result.stdout.strip().splitlines()[-15:])
        if result.returncode not in (0, 1) or not junit.exists():
            return f"error: pytest exited {result.returncode}\n{tail}", seconds
        failed, timed_out = failed_tests(junit)
        missing = not_failed(mutant, failed)
    if missing and timed_out:
        return f"error: timed out, not failed: {', '.join('::'.join(t) for t in sorted(timed_out))}", seconds
    if not missing:
        return "caught", seconds
    return f"SURVIVED: these passed on the bug: {', '.join(missing)}", seconds


def main(argv: list[str] | None = None) -> int:
    """Run the chosen mutants (all by default); return 0 only when every one was caught."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and their claims")
    parser.add_argument("--pytest-args", default="", help="extra pytest arguments, e.g. '-p no:randomly'")
    options = parser.parse_args(argv)
    known = {mutant.name: mutant for mutant in MUTANTS}
    if options.list:
        for mutant in MUTANTS:
            print(f"{mutant.name:40} {mutant.claim}")
        return 0
    unknown = [name for name in options.names if name not in known]
    if unknown:
        parser.error(f"no mutant named {', '.join(unknown)}: see --list")
    chosen = [known[name] for name in options.names] or list(MUTANTS)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", *{m.file for m in chosen}], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    signal.signal(signal.SIGTERM, _terminate)
    started, failures = time.monotonic(), 0
    for mutant in chosen:
        verdict, seconds = run_mutant(mutant, options.pytest_args.split())
        failures += verdict != "caught"
        first, _, rest = verdict.partition("\n")
        print(f"{seconds:6.0f} s  {mutant.name:40} {first}", flush=True)
        if rest:
            print(rest, flush=True)
    after = subprocess.run(
        ["git", "status", "--porcelain", "--", *{m.file for m in chosen}], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    if after != dirty:
        print(f"the tree changed while the mutants ran:\n{after}", file=sys.stderr)
        return 2
    total = time.monotonic() - started
    print(f"{len(chosen) - failures} of {len(chosen)} mutants caught in {total:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
