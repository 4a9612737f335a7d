"""Copy the front-end assets out of ``node_modules`` into ``panjereh/web/static/vendor``.

``npm ci`` installs the exact packages of ``package-lock.json`` (the Vazirmatn font, htmx,
Chart.js); this step copies the few files the pages load, with their licences, so the server
serves them itself (no CDN at run time). It needs no Node.js: only the files npm left behind.

    python -m panjereh.web.assets [--node-modules PATH] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from panjereh.web.templating import VENDOR_DIR


@dataclass(frozen=True, slots=True)
class Asset:
    """One file to copy: from a package, to a name under ``static/vendor``."""

    package: str
    source: str
    target: str


ASSETS: tuple[Asset, ...] = (
    Asset("vazirmatn", "fonts/webfonts/Vazirmatn[wght].woff2", "vazirmatn/Vazirmatn-wght.woff2"),
    Asset("vazirmatn", "OFL.txt", "vazirmatn/OFL.txt"),
    # TrueType for the PDF reports (fpdf2 embeds TTF, not WOFF2).
    Asset("vazirmatn", "fonts/ttf/Vazirmatn-Regular.ttf", "vazirmatn/Vazirmatn-Regular.ttf"),
    Asset("vazirmatn", "fonts/ttf/Vazirmatn-Bold.ttf", "vazirmatn/Vazirmatn-Bold.ttf"),
    Asset("htmx.org", "dist/htmx.min.js", "htmx.min.js"),
    Asset("htmx.org", "LICENSE", "htmx.LICENSE.txt"),
    Asset("chart.js", "dist/chart.umd.min.js", "chart.umd.min.js"),
    Asset("chart.js", "LICENSE.md", "chart.js.LICENSE.md"),
)
MANIFEST = "manifest.json"


def _version(node_modules: Path, package: str) -> str:
    data = json.loads((node_modules / package / "package.json").read_text("utf-8"))
    return str(data["version"])


def build(node_modules: Path, target: Path = VENDOR_DIR) -> dict[str, dict[str, str]]:
    """Copy every asset; returns the manifest written beside them (package, version, sha256)."""
    missing = [a for a in ASSETS if not (node_modules / a.package / a.source).is_file()]
    if missing:
        names = ", ".join(f"{a.package}/{a.source}" for a in missing)
        raise FileNotFoundError(f"not in {node_modules}: {names} (run `npm ci` first)")
    target.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, str]] = {}
    for asset in ASSETS:
        source = node_modules / asset.package / asset.source
        destination = target / asset.target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        manifest[asset.target] = {
            "package": asset.package,
            "version": _version(node_modules, asset.package),
            "sha256": hashlib.sha256(destination.read_bytes()).hexdigest(),
        }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def check(target: Path = VENDOR_DIR) -> list[str]:
    """What is missing or changed under ``static/vendor`` compared with its manifest."""
    path = target / MANIFEST
    if not path.is_file():
        return [f"{MANIFEST} missing: run python -m panjereh.web.assets"]
    problems = []
    for name, entry in json.loads(path.read_text()).items():
        file = target / name
        if not file.is_file():
            problems.append(f"{name} missing")
        elif hashlib.sha256(file.read_bytes()).hexdigest() != entry["sha256"]:
            problems.append(f"{name} differs from the manifest")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: build (default) or check the vendor directory."""
    parser = argparse.ArgumentParser(prog="python -m panjereh.web.assets", description=__doc__)
    parser.add_argument("--node-modules", type=Path, default=Path("node_modules"))
    parser.add_argument("--check", action="store_true", help="only verify what was copied")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    manifest = build(args.node_modules)
    for name, entry in sorted(manifest.items()):
        print(f"{name}  ({entry['package']} {entry['version']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
