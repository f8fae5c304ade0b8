"""Register, name, activate, verify and remove model versions, and say which one serves (the Django side of ``ml``)."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from plantml.files import CheckpointError, sha256_file
from plantml.references import REFERENCES

from .activation import announce
from .models import ModelVersion
from .reference_photos import copy_references, references_dir

logger = logging.getLogger(__name__)


class RegistryError(Exception):
    """A registry operation that cannot be done; the message says what to do instead."""


NO_ACTIVE_MODEL = (
    "no active model: train one with `manage.py train --data DIR --activate` "
    "or import one with `manage.py models import FILE --activate`"
)


def active_version() -> ModelVersion | None:
    """Return the active ModelVersion, or None when no model is live."""
    return ModelVersion.objects.filter(is_active=True).first()


def serving_version() -> ModelVersion:
    """Return the active version if its checkpoint file is there; else raise RegistryError saying what to do."""
    version = active_version()
    if version is None:
        raise RegistryError(NO_ACTIVE_MODEL)
    verify(version, checksum=False)
    return version


def _default_name(path: Path) -> str:
    stem = re.sub(r"[^a-z0-9-]+", "-", path.stem.lower()).strip("-") or "model"
    return f"{stem}-{timezone.now():%Y%m%d-%H%M%S}"


def register_checkpoint(
    path: str | Path,
    name: str | None = None,
    *,
    title: str = "",
    activate: bool = False,
    metrics: dict | None = None,
    references: str | Path | None = None,
) -> ModelVersion:
    """Verify a checkpoint loads, copy it under MODELS_DIR and record it; return the new version.

    Reference photos (``references``, by default the ``references/`` folder beside the checkpoint that
    ``train`` writes) are copied beside the registered file.
    """
    from plantml.checkpoint import load_checkpoint, model_from_checkpoint, spec_of  # PyTorch: only when registering

    source = Path(path).resolve()
    try:
        payload = load_checkpoint(source)
        model_from_checkpoint(payload)  # proves the weights fit the architecture
    except CheckpointError as exc:
        raise RegistryError(str(exc)) from exc
    except RuntimeError as exc:
        raise RegistryError(f"{source}: the weights do not fit the architecture it names ({exc})") from exc
    spec = spec_of(payload)
    name = name or _default_name(source)
    if not re.fullmatch(r"[-a-zA-Z0-9_]+", name):
        raise RegistryError(f"model name {name!r} may contain only letters, digits, '-' and '_'")
    if ModelVersion.objects.filter(name=name).exists():
        raise RegistryError(f"a model named {name!r} already exists: choose another --name or remove it first")
    target = Path(settings.MODELS_DIR) / f"{name}.pt"
    target.parent.mkdir(parents=True, exist_ok=True)
    if source != target:
        shutil.copyfile(source, target)
    version = ModelVersion.objects.create(
        name=name,
        title=title.strip(),
        architecture=spec.architecture,
        class_names=spec.class_names,
        display_names=spec.display_names,
        species=spec.species,
        input_size=spec.input_size,
        checkpoint_path=str(target),
        sha256=sha256_file(target),
        metrics=metrics if metrics is not None else payload.get("metrics", {}),
    )
    copy_references(Path(references) if references else source.parent / REFERENCES, version)
    logger.info("registered model %s from %s", version.name, source)
    if activate:
        activate_version(version.name)
        version.refresh_from_db()
    return version


def get_version(name: str) -> ModelVersion:
    """Return the version called ``name`` or raise RegistryError listing the known names."""
    try:
        return ModelVersion.objects.get(name=name)
    except ModelVersion.DoesNotExist:
        known = ", ".join(ModelVersion.objects.values_list("name", flat=True)) or "none yet"
        raise RegistryError(f"no model named {name!r} (known: {known}); see `manage.py models list`") from None


def set_title(name: str, title: str, language: str | None = None) -> ModelVersion:
    """Give version ``name`` the title users read, in ``language`` (a code of settings.LANGUAGES) or, without one,
    the plain title every language falls back to; an empty title removes it. Return the version."""
    version = get_version(name)
    title = title.strip()
    if len(title) > ModelVersion._meta.get_field("title").max_length:
        raise RegistryError(f"a title has at most {ModelVersion._meta.get_field('title').max_length} characters")
    if language is None:
        version.title = title
        version.save(update_fields=["title"])
        return version
    code = language_code(language)
    translations = {key: value for key, value in (version.title_translations or {}).items() if key != code}
    if title:
        translations[code] = title
    version.title_translations = translations
    version.save(update_fields=["title_translations"])
    return version


def language_code(language: str) -> str:
    """Return ``language`` as the code settings.LANGUAGES spells it, or raise RegistryError naming the choices."""
    codes = [code for code, _name in settings.LANGUAGES]
    code = language.strip().lower()
    if code not in codes:
        raise RegistryError(f"unknown language {language!r}: use one of {', '.join(codes)}")
    return code


def checkpoint_of(value: str) -> tuple[Path, ModelVersion | None]:
    """Return (checkpoint path, its registered version or None) for a file path or a registered model's name."""
    path = Path(value)
    if path.is_file():
        return path, None
    try:
        version = get_version(value)
        verify(version)
    except RegistryError as exc:
        raise RegistryError(f"{value} is neither a checkpoint file nor a registered model: {exc}") from exc
    return Path(version.checkpoint_path), version


def checkpoint_rewritten(version: ModelVersion) -> ModelVersion:
    """Record that ``version``'s checkpoint file was rewritten on purpose (e.g. calibrated); workers then reload it.

    Its ONNX files carry the old spec and calibration in their metadata, so they are removed: an ONNX runtime
    then refuses the version, naming the export to run, instead of serving stale answers.
    """
    version.sha256 = sha256_file(version.checkpoint_path)
    version.save(update_fields=["sha256"])
    logger.info("model %s: checkpoint updated (SHA-256 %s)", version.name, version.sha256[:12])
    for int8 in (False, True):
        path = onnx_path(version, int8=int8)
        if path.is_file():
            path.unlink()
            logger.warning(
                "model %s: removed %s, exported from the checkpoint before it was rewritten: run `%s` again",
                version.name,
                path,
                export_command(version, int8=int8),
            )
    return version


def verify(version: ModelVersion, checksum: bool = True) -> None:
    """Raise RegistryError unless the checkpoint file exists (with its recorded SHA-256 when ``checksum``)."""
    path = Path(version.checkpoint_path)
    if not path.is_file():
        raise RegistryError(
            f"model {version.name}: checkpoint {path} is missing; re-import it with `manage.py models import`"
        )
    if checksum and sha256_file(path) != version.sha256:
        raise RegistryError(
            f"model {version.name}: checkpoint {path} changed since it was registered (SHA-256 differs)"
        )


def activate_version(name: str) -> ModelVersion:
    """Make ``name`` the only active version (after verifying its file); return it."""
    version = get_version(name)
    verify(version)
    with transaction.atomic():
        ModelVersion.objects.filter(is_active=True).exclude(pk=version.pk).update(is_active=False)
        ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    version.refresh_from_db()
    logger.info("activated model %s", version.name)
    announce(version)
    return version


def remove_version(name: str, delete_file: bool = True) -> None:
    """Delete a version (and its files under MODELS_DIR: checkpoint, ONNX exports, reference photos); refuse the
    active one."""
    version = get_version(name)
    if version.is_active:
        raise RegistryError(f"model {name!r} is active: activate another one before removing it")
    paths = [Path(version.checkpoint_path), onnx_path(version), onnx_path(version, int8=True)]
    photos = references_dir(version)
    version.delete()
    for path in paths:
        if delete_file and path.is_file() and path.parent == Path(settings.MODELS_DIR):
            path.unlink()
    if delete_file and photos.is_dir() and photos.parent == Path(settings.MODELS_DIR):
        shutil.rmtree(photos)


def update_species(name: str, path: str | Path) -> ModelVersion:
    """Give version ``name`` the species facts of a species file (checkpoint and registry); return it.

    Display names that were the folder name or the previous scientific name follow the new scientific
    name; ones set with --class-names are kept.
    """
    from plantml.checkpoint import load_checkpoint, spec_of, update_spec  # PyTorch: only in the command
    from plantml.species_facts import SpeciesFileError, load_species_file

    version = get_version(name)
    verify(version)
    try:
        spec = spec_of(load_checkpoint(version.checkpoint_path))
        species = load_species_file(path, spec.class_names, spec.species_info())
    except (CheckpointError, SpeciesFileError) as exc:
        raise RegistryError(str(exc)) from exc
    old = spec.species_info()
    display_names = [
        info.scientific_name or folder if shown in (folder, old[i].scientific_name if old else folder) else shown
        for i, (folder, shown, info) in enumerate(zip(spec.class_names, spec.display_names, species))
    ]
    records = [info.to_dict() for info in species]
    update_spec(version.checkpoint_path, species=records, display_names=display_names)
    version.species, version.display_names = records, display_names
    version.save(update_fields=["species", "display_names"])
    logger.info("updated the species facts of %s from %s", version.name, path)
    return checkpoint_rewritten(version)


# Where a version's ONNX files lie: here, not in runtime.py, because removing or rewriting a version
# deletes them, and runtime.py already imports this module.
def onnx_path(version: ModelVersion, int8: bool = False) -> Path:
    """Return where ``manage.py models export`` writes the version's ONNX file: beside its checkpoint."""
    return Path(version.checkpoint_path).with_suffix(".int8.onnx" if int8 else ".onnx")


def export_command(version: ModelVersion, int8: bool = False) -> str:
    """Return the command that writes the version's ONNX file (its int8 file with ``int8``)."""
    return f"manage.py models export {version.name}" + (" --int8 --data DIR" if int8 else "")
