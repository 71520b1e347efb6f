"""``attricam analyze``: images, folders and videos in; one CSV row per face out.

CSV contract (one row per face, columns in this order)::

    path, face, x, y, w, h, score, p_<Attr> x 40, y_<Attr> x 40

* ``path`` — the file as found (as given on the command line, or below a given
  folder). A path a spreadsheet would run as a formula (starting with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return) gets a leading ``'``
  (:func:`attricam.engine.analyze_output.spreadsheet_safe`). A video frame is ``<video>#frame=<index>``, ``index`` counting from 0
  in the file, so the contract stays the same for stills and clips.
* ``face`` — 0, 1, ... (largest first) in a still; the tracker's face id in a
  video, stable while a face stays in view. ``-1`` marks an image or analysed
  frame without a face: that row has empty numbers.
* ``x, y, w, h`` — the box in pixels of the file as a viewer shows it
  (EXIF-rotated upright; a photo larger than :data:`attricam.engine.image_io.MAX_SIDE`
  is analysed downscaled and its boxes scaled back); ``score`` — detector confidence.
* ``p_<Attr>`` — probability in [0, 1], attributes in the official CelebA
  order of :data:`attricam.engine.attributes.ATTRIBUTE_NAMES`; in a video, smoothed over frames.
* ``y_<Attr>`` — the decision, 0 or 1: ``p >= threshold`` with the bundle's
  calibrated per-attribute thresholds (``FaceResult.decisions``).

A file that cannot be read is reported on stderr in one line naming it and
the reason (names with newlines quoted), and the run goes on: the exit status
is 0 when at least one file was read, 1 when none could be (or none was
found), 2 when the model or an output path is unusable (checked before the
first file), 3 when an output could not be written mid-run (a full disk: the
run stops and the outputs keep every file finished before), 130 when
interrupted by Ctrl-C or SIGTERM (the outputs then hold what was finished).
Every output is written atomically, so a crash never leaves half a CSV behind.
A progress bar shows on a terminal; ``--verbose`` prints one line per file instead.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analyze_output import AnnotationWriter, CsvReport, JsonReport, OutputWriteError, csv_rows
from .image_io import MediaLoadError, display_name, read_image
from .output_guard import OutputGuard, output_lock
from .output_paths import OutputPathError, remove_stale_temps
from .runtime import BACKENDS, DEVICES
from .shards import Shard, ShardManifest, file_sha256, listing_digest, manifest_path, parse_shard
from .sources import VideoFrames, is_video, iter_media, video_fps

if TYPE_CHECKING:  # the pipeline pulls in torch and MTCNN: imported only when a run starts
    from .pipeline import FacePipeline

__all__ = ["AnalyzeOptions", "add_analyze_arguments", "analyze_media", "run_analyze"]

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_NOTHING_READ = 1
EXIT_SETUP_ERROR = 2
EXIT_OUTPUT_FAILED = 3
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class AnalyzeOptions:
    paths: tuple[Path, ...]
    csv: Path
    json: Path | None = None
    annotate: Path | None = None
    backend: str = "auto"
    device: str = "auto"
    model: Path | None = None
    every: int = 1
    """Analyse every N-th frame of a video (stills are always analysed)."""
    shard: Shard | None = None
    """Analyse only this share of the files found (see :mod:`attricam.engine.shards`)."""
    second_opinion: bool = True
    """Fuse the bundle's face-descriptor probes when it has them (:mod:`attricam.engine.second_opinion`)."""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AnalyzeOptions:
        return cls(
            paths=tuple(Path(p) for p in args.paths),
            csv=Path(args.csv),
            json=Path(args.json) if args.json else None,
            annotate=Path(args.annotate) if args.annotate else None,
            backend=args.backend,
            device=args.device,
            model=Path(args.model) if args.model else None,
            every=args.every,
            shard=getattr(args, "shard", None),
            second_opinion=not getattr(args, "no_second_opinion", False),
        )


@dataclass(frozen=True)
class AnalyzeSummary:
    files_read: int
    files_failed: int
    rows: int
    interrupted: bool = False
    stopped: str = ""
    """Why the run stopped early because an output could not be written ('' when it did not)."""
    listing: str = ""
    """:func:`attricam.engine.shards.listing_digest` of every file found, before sharding."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_analyze_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="images, videos or folders (searched recursively)")
    parser.add_argument("--csv", required=True, metavar="OUT.csv", help="one row per face (see engine/analyze.py)")
    parser.add_argument("--json", metavar="OUT.json", help="also write per-file results as JSON")
    parser.add_argument("--annotate", metavar="DIR", help="write annotated images/videos here, mirroring input paths")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="default: onnx when the bundle has its twin",
    )
    parser.add_argument("--device", choices=DEVICES, default="auto", help="default: cuda when present")
    parser.add_argument("--model", metavar="BUNDLE.pt", help="model bundle (default: the shipped model)")
    parser.add_argument("--every", type=_positive_int, default=1, metavar="N", help="videos: analyse every N-th frame")
    parser.add_argument(
        "--no-second-opinion",
        action="store_true",
        help="the attribute model alone, without the bundle's face-descriptor probes (faster, less accurate)",
    )
    parser.add_argument(
        "--shard",
        type=parse_shard,
        default=None,
        metavar="i/n",
        help="analyse share i (0-based) of n of the files found, in path order ('env': torchrun's RANK/WORLD_SIZE); "
        "join the shard CSVs with: attricam merge csv",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="one line per file instead of a progress bar",
    )


def run_analyze(args: argparse.Namespace) -> int:
    """The subcommand: check and lock the outputs, build the pipeline, analyse everything, return the exit status."""
    # FFmpeg would add its own lines ("moov atom not found") to our one line per bad file.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    try:
        options = check_outputs(AnalyzeOptions.from_args(args))
        with output_lock(_locked_outputs(options)):
            _clear_stale_temps(options)
            return _run_locked(options)
    except OutputPathError as exc:
        print(f"attricam analyze: error: {exc}", file=sys.stderr)
        return EXIT_SETUP_ERROR


def _run_locked(options: AnalyzeOptions) -> int:
    try:
        pipeline = _build_pipeline(options)
    except (MediaLoadError, RuntimeError, ValueError, OSError) as exc:  # BundleError is a RuntimeError
        print(f"attricam analyze: error: {exc}", file=sys.stderr)
        return EXIT_SETUP_ERROR
    if not pipeline.bundle.trained:
        print(
            f"WARNING: model {pipeline.bundle.name} is UNTRAINED (random weights): probabilities are meaningless",
            file=sys.stderr,
        )
    summary = analyze_media(pipeline, options)
    _record_shard(options, summary)
    log.info(
        "%d file(s) read, %d failed, %d CSV row(s) -> %s",
        summary.files_read,
        summary.files_failed,
        summary.rows,
        options.csv,
    )
    if summary.stopped:
        print(f"attricam analyze: error: {summary.stopped}", file=sys.stderr)
        return EXIT_OUTPUT_FAILED
    if summary.interrupted:
        return EXIT_INTERRUPTED
    if summary.files_read == 0:
        print("attricam analyze: error: no readable image or video among the given paths", file=sys.stderr)
        return EXIT_NOTHING_READ
    return EXIT_OK


def _record_shard(options: AnalyzeOptions, summary: AnalyzeSummary) -> None:
    """Beside a shard's CSV, the manifest ``merge csv`` checks it against; a whole run's CSV has none."""
    manifest = manifest_path(options.csv)
    with contextlib.suppress(OSError):  # without a manifest, merge csv refuses the shard: nothing is lost
        if not options.shard:
            manifest.unlink(missing_ok=True)  # left by an earlier sharded run into the same CSV
            return
        ShardManifest(
            shard=options.shard,
            listing=summary.listing,
            files=summary.files_read + summary.files_failed,
            csv_sha256=file_sha256(options.csv),
            complete=not (summary.interrupted or summary.stopped),
        ).write(options.csv)


def check_outputs(options: AnalyzeOptions) -> AnalyzeOptions:
    """Every output is usable, and none is an input, the model or another output, before anything loads.

    Returns the options with the outputs resolved (symlinks followed), which is where they are written.
    """
    guard = OutputGuard()
    for path in options.paths:
        guard.protect(path, f"the input {display_name(path)}")
    from .bundle import default_bundle_path

    model = options.model or default_bundle_path()
    guard.protect(model, "the model (--model)" if options.model else "the shipped model")
    guard.protect(model.with_suffix(".onnx"), "the model's ONNX twin")
    csv = guard.file(options.csv, "--csv")
    json = guard.file(options.json, "--json") if options.json else None
    annotate = guard.folder(options.annotate, "--annotate") if options.annotate else None
    return replace(options, csv=csv, json=json, annotate=annotate)


def _locked_outputs(options: AnalyzeOptions) -> list[tuple[Path, str]]:
    return [(options.csv, "--csv")] + ([(options.json, "--json")] if options.json else [])


def _clear_stale_temps(options: AnalyzeOptions) -> None:
    """Temporaries of the locked outputs belong to dead runs (a live one would hold the lock)."""
    for target, _ in _locked_outputs(options):
        for stale in remove_stale_temps(target, older_than_s=0):
            log.info("removed %s, left behind by an interrupted run", display_name(stale))


def _build_pipeline(options: AnalyzeOptions) -> FacePipeline:
    from .bundle import ModelBundle, load_default_bundle
    from .pipeline import FacePipeline, PipelineSettings

    # A batch never writes predictions of random weights: a missing shipped model is an error naming where it goes.
    bundle = ModelBundle.load(options.model) if options.model else load_default_bundle(allow_random=False)
    settings = PipelineSettings(backend=options.backend, device=options.device, second_opinion=options.second_opinion)
    if options.every > 1:  # sampled frames are too far apart for O-Net to refine the previous boxes
        settings = replace(settings, full_detect_every=1)
    return FacePipeline(bundle, settings)


@dataclass
class _BatchProgress:
    """Where a batch stands: files read and failed, and what ended it early. ``current`` is the file being
    analysed (the last one once the batch is done), the one an interruption names."""

    read: int = 0
    failed: int = 0
    interrupted: bool = False
    stopped: str = ""
    current: Path = field(default_factory=Path)


@dataclass(frozen=True)
class _Outputs:
    """The open outputs of a batch: the CSV always, the JSON report and the annotated copies when asked for."""

    csv: CsvReport
    json: JsonReport | None
    annotate: AnnotationWriter | None


def analyze_media(pipeline: FacePipeline, options: AnalyzeOptions) -> AnalyzeSummary:
    """Analyse every file under ``options.paths`` into the outputs; bad files are reported and skipped."""
    files, unreadable, listing = _list_media(options)
    for line in unreadable:
        _say(line)
    batch = _BatchProgress(failed=len(unreadable))
    csv: CsvReport | None = None
    verbose = log.isEnabledFor(logging.DEBUG)
    with contextlib.ExitStack() as stack:
        progress = stack.enter_context(_progress_bar(len(files), enabled=not verbose))
        try:
            csv = stack.enter_context(CsvReport.open(options.csv))
            json = stack.enter_context(JsonReport.open(options.json, pipeline.bundle)) if options.json else None
            annotate = AnnotationWriter(options.annotate) if options.annotate else None
            _analyze_files(pipeline, files, options, _Outputs(csv, json, annotate), progress, batch)
        except KeyboardInterrupt:  # between files (bookkeeping, logging): a file's rows are one write, whole or absent
            _say(f"interrupted at {display_name(batch.current)}: outputs hold the {batch.read} file(s) read")
            batch.interrupted = True
        except OutputWriteError as exc:
            rows = csv.rows if csv else 0
            batch.stopped = f"{exc}: stopped after {batch.read} file(s); the outputs keep their {rows} CSV row(s)"
    return AnalyzeSummary(
        files_read=batch.read,
        files_failed=batch.failed,
        rows=csv.rows if csv else 0,
        interrupted=batch.interrupted,
        stopped=batch.stopped,
        listing=listing,
    )


def _analyze_files(
    pipeline: FacePipeline,
    files: list[Path],
    options: AnalyzeOptions,
    outputs: _Outputs,
    progress: Any,
    batch: _BatchProgress,
) -> None:
    """Each file into the outputs in turn; one that fails is reported and counted, Ctrl-C during one ends the
    batch. An :class:`OutputWriteError` ends it too, raised to the caller."""
    for number, path in enumerate(files, 1):
        batch.current = path
        start = time.perf_counter()
        progress.update(1)
        try:
            analysis = _analyze_file(pipeline, path, options, outputs.annotate)
        except KeyboardInterrupt:
            _say(f"interrupted at {display_name(path)}: outputs hold the {batch.read} file(s) read before it")
            batch.interrupted = True
            return
        except MediaLoadError as exc:
            _count_failure(batch, path, f"SKIPPED {exc}", str(exc), outputs.json)
            continue
        except OutputWriteError:
            raise
        except Exception as exc:  # a bug must not end a long batch; traceback with -v
            log.debug("analysis of %s failed", path, exc_info=True)
            reason = _one_line(exc) if isinstance(exc, OSError) else f"internal error ({_one_line(exc)})"
            _count_failure(batch, path, f"FAILED {display_name(path)}: {reason}", reason, outputs.json)
            continue
        _record(analysis, path, outputs.csv, outputs.json)
        batch.read += 1
        _log_analysed(number, len(files), path, analysis, start)


def _count_failure(batch: _BatchProgress, path: Path, message: str, reason: str, json: JsonReport | None) -> None:
    """A file that could not be analysed: one stderr line, the failed count, its error entry in the JSON report."""
    _say(message)
    batch.failed += 1
    if json:
        json.add_error(path, reason)


def _log_analysed(number: int, total: int, path: Path, analysis: FileAnalysis, start: float) -> None:
    """--verbose's line for a file read: its place in the batch, faces (and frames) and time since ``start``."""
    log.debug(
        "[%d/%d] %s: %d face(s)%s in %.0f ms",
        number,
        total,
        display_name(path),
        analysis.faces,
        f" over {len(analysis.frames)} frame(s)" if is_video(path) else "",
        (time.perf_counter() - start) * 1000,
    )


def _list_media(options: AnalyzeOptions) -> tuple[list[Path], list[str], str]:
    """(this run's files, one line per folder that could not be listed, the whole listing's digest for shards)."""
    unreadable: list[str] = []
    files = list(
        iter_media(
            options.paths,
            exclude=[options.annotate] if options.annotate else [],
            on_error=lambda folder, error: unreadable.append(
                f"SKIPPED {display_name(folder)}: cannot read this folder ({error.strerror or error}); its files are not analysed"
            ),
        )
    )
    listing = listing_digest(files) if options.shard else ""
    if options.shard:
        files = options.shard.take(files)
    return files, unreadable, listing


def _record(analysis: FileAnalysis, path: Path, csv: CsvReport, json: JsonReport | None) -> None:
    """A file's rows (one write, whole or absent), its JSON entry and its notes."""
    csv.add_rows(analysis.rows)
    if json:
        json.add_file(path, analysis.frames, video=is_video(path), source_size=analysis.source_size)
    for note in analysis.notes:
        _say(f"NOTE {note}")


@contextlib.contextmanager
def _progress_bar(total: int, *, enabled: bool) -> Iterator[Any]:
    """tqdm on stderr when it is a terminal (and not --verbose); per-file messages go through :func:`_say`."""
    from tqdm import tqdm

    bar = tqdm(total=total, unit="file", desc="analyze", disable=None if enabled else True, dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()


def _say(text: str) -> None:
    """One stderr line that does not tear the progress bar; any stray line break is escaped."""
    from tqdm import tqdm

    tqdm.write(text.replace("\r", "\\r").replace("\n", "\\n"), file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass(frozen=True)
class FileAnalysis:
    """What one file produced, kept small: CSV rows as text and JSON-ready frame dicts, no arrays."""

    rows: list[list[str]]
    frames: list[dict[str, Any]]
    faces: int
    source_size: tuple[int, int] | None
    """A still's upright size in the file (width, height); None for a video."""
    notes: tuple[str, ...] = ()
    """What the user should know about a file that was read (animated still, video that ended early)."""


def _analyze_file(
    pipeline: FacePipeline, path: Path, options: AnalyzeOptions, annotate: AnnotationWriter | None
) -> FileAnalysis:
    """Analyse one image or video; its rows reach the CSV only once the whole file succeeded."""
    if not is_video(path):
        image = read_image(path)
        result = pipeline.analyze_image(image.pixels)
        if annotate:
            annotate.write_image(path, image.pixels, result)
        still_rows = csv_rows(str(path), result, scale=image.scale)
        notes: tuple[str, ...] = ()
        if image.frames > 1:
            notes = (
                f"{display_name(path)}: animated image with {image.frames} frames: only the first frame is analysed",
            )
        return FileAnalysis(still_rows, [result.as_dict()], len(result.faces), image.source_size, notes)
    pipeline.reset()  # a new clip: no track may continue from the previous file
    rows: list[list[str]] = []
    frames: list[dict[str, Any]] = []
    faces = 0
    video_frames = VideoFrames(path, every=options.every)
    decoded = iter(video_frames)
    first = next(decoded)  # raises VideoLoadError for an unreadable clip before any output is opened
    with contextlib.ExitStack() as stack:
        video = stack.enter_context(annotate.video(path, video_fps(path) / options.every)) if annotate else None
        for index, frame in itertools.chain([first], decoded):
            result = pipeline.process(frame)
            rows += csv_rows(f"{path}#frame={index}", result)
            frames.append({**result.as_dict(), "frame_index": index})
            faces += len(result.faces)
            if video:
                video.write(frame, result)
    video_notes = (video_frames.shortfall_message(),) if video_frames.ended_early else ()
    return FileAnalysis(rows, frames, faces, None, video_notes)
