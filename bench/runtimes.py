"""CPU img/s of PyTorch vs ONNX Runtime vs int8 ONNX, and their top-1 agreement; batched vs unbatched Predictor.

For tf_efficientnet_lite0 (offline ImageNet weights) and convnextv2_atto (random init), each with a
linear head fitted on frozen features of a few flowers5 training photos, so top-1 means something.
Every runtime is timed in the same rounds, interleaved. Usage: python -m bench.runtimes [FLOWERS5] [--quick]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.common import parser, quiet_logging, require_dataset

ARCHITECTURES = ("tf_efficientnet_lite0", "convnextv2_atto")


def fitted_checkpoint(architecture: str, data: Path, size: int, per_class: int, folder: Path) -> Path:
    """Return a checkpoint whose linear head is fitted (full-batch LBFGS) on frozen features of train photos."""
    import torch

    from plantml.checkpoint import ModelSpec, save_checkpoint
    from plantml.data import ImageDataset, build_loader, scan_image_folder
    from plantml.modeling import classifier_name
    from plantml.transforms import eval_transform
    from plantml.weights import load_pretrained, pretrained_normalisation

    samples, class_names, _ = scan_image_folder(data / "train")
    samples = [s for label in range(len(class_names)) for s in [x for x in samples if x[1] == label][:per_class]]
    mean, std = pretrained_normalisation(architecture)
    spec = ModelSpec(architecture, class_names, input_size=size, mean=mean, std=std)
    torch.manual_seed(0)
    model = spec.build_model()
    load_pretrained(model, architecture, pretrained=architecture == "tf_efficientnet_lite0")
    model.eval()
    loader = build_loader(ImageDataset(samples, eval_transform(size, mean, std)), batch_size=32, workers=0)
    with torch.inference_mode():
        features, labels = zip(
            *[(model.forward_head(model.forward_features(x), pre_logits=True), y) for x, y in loader]
        )
    features, labels = torch.cat(features).clone(), torch.cat(labels)
    head = model.get_submodule(classifier_name(model))
    optimizer = torch.optim.LBFGS(head.parameters(), max_iter=200)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(features), labels) + 1e-4 * head.weight.square().sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return save_checkpoint(folder / f"{architecture}.pt", model, spec)


def images_per_second(models: dict, batch, rounds: int, repeats: int) -> dict[str, float]:
    """Return the median img/s of each model over ``rounds`` interleaved rounds of ``repeats`` forwards."""
    import torch

    timings = {name: [] for name in models}
    with torch.inference_mode():
        for model in models.values():
            model(batch)  # warm-up
        for _ in range(rounds):
            for name, model in models.items():
                started = time.perf_counter()
                for _ in range(repeats):
                    model(batch)
                timings[name].append(len(batch) * repeats / (time.perf_counter() - started))
    return {name: statistics.median(values) for name, values in timings.items()}


def top1_agreement(models: dict, loader) -> dict[str, tuple[float, float]]:
    """Return each model's (top-1, top-1 agreement with the first model) on ``loader``."""
    from plantml.evaluation.runner import predict_loader

    predictions = {name: predict_loader(model, loader, "cpu", description=name) for name, model in models.items()}
    targets, reference = next(iter(predictions.values()))
    reference = reference.argmax(1)
    return {
        name: (float((probs.argmax(1) == targets).mean()), float((probs.argmax(1) == reference).mean()))
        for name, (_, probs) in predictions.items()
    }


def compare_runtimes(architecture: str, args, folder: Path) -> None:
    from plantml.checkpoint import load_checkpoint, model_from_checkpoint, spec_of
    from plantml.data import ImageDataset, build_loader
    from plantml.onnx_export import (
        DEFAULT_MAX_DROP,
        check_photos,
        export_onnx,
        model_inputs,
        quantize_static_int8,
        split_samples,
    )
    from plantml.onnx_runtime import OnnxModule, open_session
    from plantml.transforms import eval_transform

    started = time.perf_counter()
    checkpoint = fitted_checkpoint(architecture, args.data, args.size, args.per_class, folder)
    payload = load_checkpoint(checkpoint)
    spec, model = spec_of(payload), model_from_checkpoint(payload)
    transform = eval_transform(spec.input_size, spec.mean, spec.std)
    fp32, int8 = folder / f"{architecture}.onnx", folder / f"{architecture}.int8.onnx"
    difference = export_onnx(checkpoint, fp32, model_inputs(spec, check_photos(args.data, spec)))
    calibration = split_samples(args.data, spec, ("val",))
    calibration = calibration[:: max(1, len(calibration) // 64)][:64]  # as `models export --int8` calibrates
    calibration_loader = build_loader(ImageDataset(calibration, transform), batch_size=32, workers=0)
    quantize_static_int8(fp32, int8, (images for images, _ in calibration_loader))
    sessions = [OnnxModule(open_session(path, threads=args.threads)) for path in (fp32, int8)]
    models = {"torch": model, "onnx": sessions[0], "int8": sessions[1]}
    test = split_samples(args.data, spec, ("test",))
    test = test[:: max(1, len(test) // args.test_images)][: args.test_images]
    accuracy = top1_agreement(models, build_loader(ImageDataset(test, transform), batch_size=32, workers=0))
    batch = model_inputs(spec, check_photos(args.data, spec, count=args.batch))
    speed = images_per_second(models, batch, args.rounds, args.repeats)
    print(
        f"\n{architecture} at {spec.input_size} px (head fitted on {args.per_class} photos/class), batch {len(batch)}"
    )
    print(f"  ONNX export: max abs difference to PyTorch (logits and features) {difference:.2e}")
    print(f"  {'runtime':<7} {'img/s':>8} {'x torch':>8} {'top-1':>8} {'agree':>8}   ({len(test)} test images)")
    for name in models:
        top1, agreement = accuracy[name]
        print(f"  {name:<7} {speed[name]:8.1f} {speed[name] / speed['torch']:8.2f} {top1:8.2%} {agreement:8.2%}")
    drop = (accuracy["torch"][0] - accuracy["int8"][0]) * 100
    verdict = "accepted" if drop <= DEFAULT_MAX_DROP else "refused"
    print(f"  int8 top-1 drop {drop:.2f} points: `models export --int8` would be {verdict}")
    print(f"  ({time.perf_counter() - started:.0f} s)")


def batched_predictor(args, folder: Path) -> None:
    """Print img/s of Predictor.predict_many over one-photo plants vs one Predictor.predict per plant."""
    from plantml.onnx_export import check_photos
    from plantml.predictor import Predictor

    predictor = Predictor.from_checkpoint(folder / f"{ARCHITECTURES[0]}.pt", device="cpu")
    photos = check_photos(args.data, predictor.spec, count=args.batch)
    plants = [[photo] for photo in photos]
    predictor.predict_many(plants)
    runs = {"unbatched": [], "batched": []}
    for _ in range(args.rounds):
        started = time.perf_counter()
        for plant in plants:
            predictor.predict(plant)
        runs["unbatched"].append(len(plants) / (time.perf_counter() - started))
        started = time.perf_counter()
        predictor.predict_many(plants)
        runs["batched"].append(len(plants) / (time.perf_counter() - started))
    unbatched, batched = statistics.median(runs["unbatched"]), statistics.median(runs["batched"])
    print(f"\nPredictor on {ARCHITECTURES[0]}, {len(plants)} one-photo plants (transform included):")
    print(f"  one predict() per plant: {unbatched:6.1f} img/s")
    print(f"  one predict_many():      {batched:6.1f} img/s   ratio {batched / unbatched:.2f}x")


def main() -> None:
    cli = parser(__doc__.split("\n\n")[0])
    cli.add_argument("--size", type=int, default=224, help="input size (default 224)")
    cli.add_argument("--per-class", type=int, default=40, help="train photos per class for the head (default 40)")
    cli.add_argument("--batch", type=int, default=16, help="photos per timed forward (default 16)")
    cli.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default 5)")
    cli.add_argument("--repeats", type=int, default=3, help="forwards per runtime per round (default 3)")
    cli.add_argument("--test-images", type=int, default=250, help="test photos for top-1, spread (default 250)")
    cli.add_argument("--threads", type=int, help="CPU threads for PyTorch and ONNX Runtime alike (default: theirs)")
    cli.add_argument("--quick", action="store_true", help="check that it runs: 64 px, few photos")
    args = cli.parse_args()
    require_dataset(args.data)
    if args.quick:
        args.size, args.per_class, args.rounds, args.repeats, args.test_images = 64, 4, 1, 1, 50
    quiet_logging()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"CPU threads: PyTorch {torch.get_num_threads()}, ONNX Runtime {args.threads or 'its default (physical cores)'}"
    )
    with tempfile.TemporaryDirectory(prefix="plantsite-runtimes-") as tmp:
        for architecture in ARCHITECTURES:
            compare_runtimes(architecture, args, Path(tmp))
        batched_predictor(args, Path(tmp))


if __name__ == "__main__":
    main()
