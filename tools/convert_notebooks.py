"""Convert the course's MyST notebooks to .ipynb with jupytext (outputs stay empty).

    python tools/convert_notebooks.py OUTDIR [FOLDER ...]

Writes OUTDIR/<folder>/<name>.ipynb for every .md notebook in the folders (default: lessons,
exercises, solutions).  Used by the tests (nbval collects only .ipynb) and by the Colab export.
"""

import sys
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("lessons", "exercises", "solutions")


def notebooks(folders=FOLDERS):
    for folder in folders:
        for path in sorted((ROOT / folder).glob("*.md")):
            if path.read_text().startswith("---\njupytext:"):
                yield path


def convert(outdir: Path, folders=FOLDERS) -> list[Path]:
    written = []
    for source in notebooks(folders):
        target = outdir / source.parent.name / (source.stem + ".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(jupytext.read(source), target)
        written.append(target)
    return written


if __name__ == "__main__":
    out = Path(sys.argv[1])
    for path in convert(out, sys.argv[2:] or FOLDERS):
        print(path)
