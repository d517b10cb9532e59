"""Front-end libraries come from the npm registry (package.json), installed into
node_modules/ by `make install`; this copies the files the pages use into
static/vendor/ (ignored by git), where the app serves them like its own assets.

`python -m saas.vendor` copies `carehubVendor`; `--dev` adds `carehubTestVendor`
(used only by the browser tests, e.g. the accessibility audit)."""

from __future__ import annotations

import json
import shutil
import sys

from saas.config import ROOT

VENDOR = ROOT / "static" / "vendor"


def copy_vendor(dev: bool = False) -> list[str]:
    package = json.loads((ROOT / "package.json").read_text())
    wanted = dict(package.get("carehubVendor", {}))
    if dev:
        wanted.update(package.get("carehubTestVendor", {}))
    VENDOR.mkdir(parents=True, exist_ok=True)
    missing = []
    for name, source in wanted.items():
        src = ROOT / "node_modules" / source
        if not src.is_file():
            missing.append(source)
            continue
        dest = VENDOR / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    if missing:
        raise SystemExit("not installed (run npm ci): " + ", ".join(missing))
    return sorted(wanted)


if __name__ == "__main__":
    names = copy_vendor(dev="--dev" in sys.argv[1:])
    print("static/vendor/:", ", ".join(names))
